/**
 * Keeps the journal within its limits in the background: a short delete of the oldest lines at
 * a time, the next one a turn of the event loop later, so that requests go on between them.
 */
import type { Clock } from '../offers/ports.js';
import type { Store } from '../store/types.js';
import type { Logger } from './log.js';

export interface JournalTrimOptions {
  store: Pick<Store, 'trimJournal'>;
  clock: Pick<Clock, 'now'>;
  log: Pick<Logger, 'warn'>;
  /** Lines kept at most; 0 or undefined for no cap. */
  maxRows?: number | undefined;
  /** Lines older than this many seconds go; 0 or undefined for no age limit. */
  maxAgeSeconds?: number | undefined;
  /** Pause between rounds, and before a retry after a failure. */
  intervalMs: number;
}

/** Lines one delete removes at most: about a millisecond of work. */
export const TRIM_CHUNK = 2000;

/** Starts trimming (the first round at once); returns the function that stops it. */
export function startJournalTrimmer(options: JournalTrimOptions): () => void {
  const maxRows = options.maxRows || undefined;
  const maxAgeMs = options.maxAgeSeconds ? options.maxAgeSeconds * 1000 : undefined;
  if (maxRows === undefined && maxAgeMs === undefined) return () => {};
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing = false;

  const next = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(round, delayMs);
    timer.unref();
  };
  async function round(): Promise<void> {
    try {
      const before = maxAgeMs === undefined ? undefined : options.clock.now() - maxAgeMs;
      const deleted = await options.store.trimJournal({ maxRows, before }, TRIM_CHUNK);
      if (failing) options.log.warn('the journal is trimmed again');
      failing = false;
      // More to delete: the next chunk after whatever else is waiting; else a pause.
      next(deleted > 0 ? 0 : options.intervalMs);
    } catch (err) {
      if (!failing) {
        options.log.warn('cannot trim the journal; retrying', {
          error: err instanceof Error ? err.message : String(err),
          retry_in_ms: options.intervalMs,
        });
      }
      failing = true;
      next(options.intervalMs);
    }
  }
  next(0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
