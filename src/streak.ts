/**
 * A trouble that lasts: told once when it starts and once when it ends, the idea of
 * failureStreak (src/offers/retry.ts) without its backoff, whose message would promise retry
 * times that the callers (ioredis's reconnection, a heartbeat, the PostgreSQL store's group
 * commit) do not follow.
 */
import { awayDependency } from './unavailable.js';

export type StreakWarn = (message: string, fields?: Record<string, unknown>) => void;

export function streak(what: string, warn: StreakWarn) {
  let failures = 0;
  return {
    failed(err: unknown) {
      failures++;
      if (failures === 1) {
        warn(`${what} failed; trying again`, {
          // ioredis's own words for a command that met no connection name its options.
          error:
            awayDependency(err) === 'Redis'
              ? 'no connection to Redis'
              : err instanceof Error
                ? err.message
                : String(err),
        });
      }
    },
    succeeded() {
      if (failures === 0) return;
      warn(`${what} works again`, { failures });
      failures = 0;
    },
  };
}
