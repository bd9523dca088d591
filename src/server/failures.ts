/**
 * What a request that failed is answered, in one place for the API, the pages and WebSocket
 * upgrades: a coded error as it is; a dependency that is away (PostgreSQL, Redis) as 503
 * `E_UNAVAILABLE`, logged at most once every few seconds with how many requests it turned away;
 * anything else as 500 `E_INTERNAL`, a bug, logged with its stack.
 */
import { ShiftctlError } from '../errors.js';
import { awayDependency, unavailableError } from '../unavailable.js';
import type { Logger } from './log.js';

/** Codes the command line uses, never sent over HTTP (docs/errors.md). */
const CLI_ONLY = new Set(['E_DATABASE', 'E_DATABASE_IN_USE', 'E_REDIS', 'E_LISTEN']);

/** How often an outage is told in the log while it lasts. */
const AWAY_LOG_EVERY_MS = 5000;

export type FailureAnswer = (err: unknown, context: Record<string, unknown>) => ShiftctlError;

export function failureAnswers(log: Logger, now: () => number = Date.now): FailureAnswer {
  let toldAt = Number.NEGATIVE_INFINITY;
  let untold = 0;
  return (err, context) => {
    const away = awayDependency(err);
    if (!away && err instanceof ShiftctlError && !CLI_ONLY.has(err.code)) return err;
    if (away) {
      untold++;
      if (now() - toldAt >= AWAY_LOG_EVERY_MS) {
        const who = away.charAt(0).toUpperCase() + away.slice(1);
        log.warn(`${who} cannot be reached: requests are answered 503 until it is back`, {
          ...context,
          requests: untold,
          error: (err as Error).message,
        });
        toldAt = now();
        untold = 0;
      }
      return unavailableError(away);
    }
    log.error('unexpected error while handling a request', {
      ...context,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return new ShiftctlError(
      'E_INTERNAL',
      'The server failed to handle this request; see its log.',
    );
  };
}
