/**
 * Background work (deadlines, cascade steps, scenario steps) that fails is tried again, not
 * dropped: a full disk or a database another process has locked usually clears up.
 */

/** The first retry comes after 1 s; each later one waits twice as long, up to 30 s. */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 30_000;

/** Milliseconds to wait after the `failures`th failure in a row (1-based). */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

/** Where a failure streak is told: its start as a warning, its end as an event. */
export interface StreakLog {
  warn(message: string, fields: Record<string, unknown>): void;
  recovered(fields: Record<string, unknown>): void;
}

export interface FailureStreak {
  /** Notes a failure (logged when it starts a streak); returns the wait before the retry. */
  failed(err: unknown, context?: Record<string, unknown>): number;
  /** Notes a success; logs the recovery when it ends a streak. */
  succeeded(): void;
}

/**
 * Counts a job's failures in a row, so that a streak is logged once when it starts and once
 * when it ends, not on every retry.
 */
export function failureStreak(job: string, log: StreakLog): FailureStreak {
  let failures = 0;
  return {
    failed(err, context = {}) {
      failures++;
      const delay = retryDelayMs(failures);
      if (failures === 1) {
        log.warn(`${job} failed; retrying in ${delay} ms, then less often (at most every 30 s)`, {
          ...context,
          error: err instanceof Error ? err.message : String(err),
          ...errorCode(err),
        });
      }
      return delay;
    },
    succeeded() {
      if (failures === 0) return;
      log.recovered({ job, failures });
      failures = 0;
    },
  };
}

function errorCode(err: unknown): { code?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { code } : {};
}
