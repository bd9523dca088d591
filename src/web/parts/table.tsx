/** The dashboard's tables: each in a region of its own that scrolls and takes the focus. */
import type { ComponentChildren } from 'preact';

/**
 * A table that scrolls on its own, focusable so that the keyboard can scroll it too. A column
 * named '' is for actions (named for screen readers only).
 */
export function Table(props: {
  class: string;
  label: string;
  tall?: boolean;
  columns: string[];
  children: ComponentChildren;
}) {
  const { label, tall, columns, children } = props;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take the focus (WCAG 2.1.1)
    <section class={tall ? 'scroll tall' : 'scroll'} aria-label={label} tabIndex={0}>
      <table class={props.class}>
        <thead>
          <tr>
            {columns.map((column, i) => (
              <th scope="col" key={i}>
                {column || <span class="sr-only">Actions</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </section>
  );
}
