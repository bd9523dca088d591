/** The app's reconnect schedule (PROTOCOL.md, "Client behaviour"), as pure functions. */

/** Seconds to wait before reconnect attempt 1, 2, 3, ...: 2, 4, 8, 16, then 30 for every later one. */
export const RECONNECT_DELAYS_S = [2, 4, 8, 16, 30] as const;
export const MAX_RECONNECT_DELAY_S = 30;
export const DEFAULT_MAX_RETRIES = 10;

/** Seconds before reconnect attempt `attempt` (1-based). */
export function reconnectDelaySeconds(attempt: number): number {
  return RECONNECT_DELAYS_S[attempt - 1] ?? MAX_RECONNECT_DELAY_S;
}
