/**
 * A form of filters that applies itself as it is edited, and on Enter: `apply` reads its fields.
 */
import type { ComponentChildren } from 'preact';

export function LiveForm({
  apply,
  children,
}: {
  apply: (data: FormData) => void;
  children: ComponentChildren;
}) {
  return (
    <form
      class="inline"
      onSubmit={(event) => {
        event.preventDefault();
        apply(new FormData(event.currentTarget));
      }}
      onChange={(event) => apply(new FormData(event.currentTarget))}
    >
      {children}
    </form>
  );
}
