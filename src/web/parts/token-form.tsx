/** The sign-in form both pages show on a `--secret` server: one token, kept in the tab only. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface TokenFormProps {
  /** The input's id and label. */
  id: string;
  label: string;
  /** The section's class (each page styles its own). */
  class: string;
  /** Why a token is needed, and where to get one. */
  children: ComponentChildren;
  /** Why the last token was refused, if it was. */
  message: string | undefined;
  onToken(token: string): void;
}

export function TokenForm(props: TokenFormProps) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const titleId = `${props.id}-title`;
  return (
    <section class={props.class} aria-labelledby={titleId}>
      <h2 id={titleId}>Sign in</h2>
      <p>{props.children}</p>
      {props.message && (
        <p class="error" role="alert">
          {props.message}
        </p>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const value = input.current?.value.trim();
          if (value) props.onToken(value);
        }}
      >
        <label for={props.id}>{props.label}</label>
        <input
          id={props.id}
          ref={input}
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
        />
        <button type="submit">Use token</button>
      </form>
    </section>
  );
}
