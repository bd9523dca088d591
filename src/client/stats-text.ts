/**
 * How the stats' figures read, in `shiftctl stats` and on the dashboard alike: pure functions
 * without Node or DOM, so that the browser bundle takes them too.
 */

/** Seconds the way a person reads them: `350 ms`, `48.2 s`, `6 m 11 s`, `2 h 05 m`; empty for none. */
export function humanSeconds(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} m ${String(whole % 60).padStart(2, '0')} s`;
  const minutes = Math.round(whole / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} m`;
}

/** A rate as a percentage to one place; empty for none. */
export const percent = (rate: number | null): string =>
  rate === null ? '' : `${(rate * 100).toFixed(1)}%`;
