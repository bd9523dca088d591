/** The app's timestamps: a pure module, shared by the terminal client and the browser page. */

/** The app's local ISO time without a zone, e.g. `2026-01-14T15:30:00.000`. */
export function localTimestamp(date = new Date()): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, -1);
}
