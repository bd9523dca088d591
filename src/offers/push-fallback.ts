/**
 * Push fallback (docs/push.md): an offer that found no connected device, and is still waiting
 * `afterMs` later, is pushed to each of its employee's push tokens through a webhook, once.
 *
 * The pushes live in the store. Whoever finds one due claims it there (one conditional write:
 * of several instances, exactly one claims each), sends it, and records the outcome; an offer
 * answered, delivered to a device or closed meanwhile cancels its pushes at the claim. A failed
 * attempt is tried again with a backoff, a bounded number of times. The instance that leads
 * the timers also looks for pushes left by others (a restart, a claimer that died) every time
 * it renews its lease.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DevicePlatform } from '../protocol/schemas.js';
import { toPushMessage } from '../push/message.js';
import type { WebhookResult, WebhookSender } from '../push/webhook.js';
import type { CancelledPush, ClaimedPush, JournalInput, PushNext, Store } from '../store/types.js';
import type { Clock, EventSink } from './ports.js';
import { failureStreak } from './retry.js';
import { toOfferMessage } from './views.js';

/** The journal's name for a webhook push (kind `push`). */
export const PUSH_JOURNAL_NAME = 'push_notification';

export interface PushRetry {
  /** Attempts at most, the first included. */
  attempts: number;
  /** The wait after the first failure; each later one waits twice as long. */
  firstMs: number;
  /** The longest wait between attempts. */
  maxMs: number;
}

export const DEFAULT_PUSH_RETRY: PushRetry = { attempts: 6, firstMs: 1000, maxMs: 60_000 };

export interface PushFallbackOptions {
  store: Store;
  clock: Clock;
  send: WebhookSender;
  events: EventSink;
  journal(entry: JournalInput): void;
  /** How long an offer waits for a device before it is pushed. */
  afterMs: number;
  retry?: PushRetry | undefined;
  /**
   * How long a claim holds: past it, another instance may send the push again (its claimer is
   * taken for dead). Longer than an attempt can take.
   */
  leaseMs: number;
  /** Whether this instance looks for every push due, not only those it scheduled. */
  leading: boolean;
}

/** Pushes claimed at a time. */
const CLAIM_BATCH = 50;
/** How soon to look again for a push another instance was claiming when this one looked. */
const LOCKED_RETRY_MS = 100;

/** The wait before attempt `attempt + 1`, after `attempt` failed. */
export function pushRetryDelayMs(retry: PushRetry, attempt: number): number {
  return Math.min(retry.maxMs, retry.firstMs * 2 ** Math.max(0, attempt - 1));
}

/** An id for a push, the same on every attempt (receivers can drop repeats by it). */
export function pushId(p: { shiftId: number; empId: number; token: string }): string {
  const token = createHash('sha256').update(p.token).digest('hex').slice(0, 16);
  return `${p.shiftId}-${p.empId}-${token}`;
}

/** The end of a token, enough to tell an employee's tokens apart in the journal. */
function tokenHint(token: string): string {
  return `…${token.slice(-8)}`;
}

export type PushFallback = ReturnType<typeof createPushFallback>;

export function createPushFallback(options: PushFallbackOptions) {
  const { store, clock, send, events } = options;
  const retry = options.retry ?? DEFAULT_PUSH_RETRY;
  let leading = options.leading;
  let stopped = false;
  let timer: { at: number; cancel: () => void } | undefined;
  let running: Promise<void> | undefined;
  let runAgain = false;
  /** While claiming fails (the database), runs wait for the backoff. */
  let retryNotBefore = 0;
  const stopping = new AbortController();
  const failures = failureStreak('sending webhook pushes', {
    warn: (message, fields) =>
      events.warn
        ? events.warn(message, fields)
        : events.event({ event: 'warning', message, ...fields }),
    recovered: (fields) => events.event({ event: 'recovered', ...fields }),
  });

  /** Keeps one timer, at the earliest time asked for. */
  function arm(at: number): void {
    if (stopped) return;
    const when = Math.max(at, retryNotBefore);
    if (timer && timer.at <= when) return;
    timer?.cancel();
    timer = { at: when, cancel: clock.schedule(when, run) };
  }

  function run(): void {
    timer = undefined;
    if (stopped) return;
    if (running) {
      runAgain = true;
      return;
    }
    running = sendDue().finally(() => {
      running = undefined;
      if (runAgain && !stopped) {
        runAgain = false;
        run();
      }
    });
  }

  /** Claims and sends every push due; never rejects (a failure is retried with a backoff). */
  async function sendDue(): Promise<void> {
    try {
      for (;;) {
        const now = clock.now();
        const claimId = randomUUID();
        const { claimed, cancelled } = await store.claimPushes(
          now,
          now + options.leaseMs,
          claimId,
          CLAIM_BATCH,
        );
        for (const p of cancelled) cancelledOne(p, now);
        await Promise.all(claimed.map((p) => sendOne(p, claimId)));
        if (claimed.length + cancelled.length < CLAIM_BATCH || stopped) break;
      }
      failures.succeeded();
      retryNotBefore = 0;
      // Later pushes, whichever instance scheduled them: the timer keeps only the earliest. One
      // due already is being claimed by another instance (its row was locked): look again soon.
      await armFromStore(clock.now() + LOCKED_RETRY_MS);
    } catch (err) {
      if (stopped) return;
      retryNotBefore = clock.now() + failures.failed(err);
      arm(retryNotBefore);
    }
  }

  async function armFromStore(notBefore = 0): Promise<void> {
    const next = await store.nextPushDue();
    if (next !== undefined) arm(Math.max(next, notBefore));
  }

  function cancelledOne(p: CancelledPush, at: number): void {
    options.journal({
      at,
      kind: 'push',
      empId: p.empId,
      shiftId: p.shiftId,
      name: PUSH_JOURNAL_NAME,
      outcome: 'cancelled',
      detail: { reason: p.reason, attempts: p.attempts, token: tokenHint(p.token) },
    });
    events.event({
      event: 'push_cancelled',
      shift_id: p.shiftId,
      emp_id: p.empId,
      reason: p.reason,
    });
  }

  /** What comes after an attempt: done, or the next attempt's time. */
  function nextAfter(p: ClaimedPush, result: WebhookResult, now: number): PushNext {
    if (result.outcome === 'sent') return { state: 'sent' };
    if (result.outcome === 'retry' && stopped) return { state: 'due', dueAt: now };
    if (result.outcome === 'failed' || p.attempt >= retry.attempts) return { state: 'failed' };
    const wait = Math.max(pushRetryDelayMs(retry, p.attempt), result.retryAfterMs ?? 0);
    return { state: 'due', dueAt: now + wait };
  }

  async function sendOne(p: ClaimedPush, claimId: string): Promise<void> {
    const message = toPushMessage(
      toOfferMessage(p.shift, p.expiresAt),
      p.empId,
      p.token,
      p.platform,
      clock.now(),
    );
    const result = await send(message, { id: pushId(p), attempt: p.attempt }, stopping.signal);
    const now = clock.now();
    const next = nextAfter(p, result, now);
    const outcome = next.state === 'due' ? 'retry' : next.state;
    const mine = await store.finishPush(p, claimId, next, now);
    options.journal({
      at: now,
      kind: 'push',
      empId: p.empId,
      shiftId: p.shiftId,
      name: PUSH_JOURNAL_NAME,
      outcome,
      detail: detailOf(p.platform, p.token, p.attempt, result, next),
    });
    events.event({
      event: 'push_notification',
      shift_id: p.shiftId,
      emp_id: p.empId,
      outcome,
      status: result.status,
      attempt: p.attempt,
      ...(result.error ? { error: result.error } : {}),
    });
    if (!mine) {
      // Sent after its claim lapsed, so another instance may have sent it too: the lease is
      // shorter than an attempt took.
      events.warn?.('a webhook push outlived its claim; another instance may send it again', {
        shift_id: p.shiftId,
        emp_id: p.empId,
      });
    }
    if (next.state === 'due' && !stopped) arm(next.dueAt);
  }

  return {
    /**
     * Offers of `shiftId` found no device of these employees: a push to each of their tokens
     * falls due `afterMs` from now. A failure to schedule is logged: the offer stands.
     */
    async schedule(shiftId: number, empIds: readonly number[]): Promise<void> {
      if (stopped || empIds.length === 0) return;
      const dueAt = clock.now() + options.afterMs;
      try {
        const added = await store.schedulePushes(shiftId, empIds, dueAt);
        if (added === 0) return;
        events.event({
          event: 'push_scheduled',
          shift_id: shiftId,
          emp_ids: empIds,
          pushes: added,
          due_at: new Date(dueAt).toISOString(),
        });
        arm(dueAt);
      } catch (err) {
        events.warn?.('could not schedule webhook pushes; the offer stands', {
          shift_id: shiftId,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    },

    /**
     * The employee registered a push token: their offers that found no device and still wait
     * get a push to it, `afterMs` after each was sent (at once when that is past). A phone
     * that registers its token only after the offer went out is woken as one registered before.
     */
    async tokenRegistered(empId: number, token: string): Promise<void> {
      if (stopped) return;
      const now = clock.now();
      try {
        const added = await store.schedulePushesForToken(empId, token, options.afterMs, now);
        if (added === 0) return;
        events.event({ event: 'push_scheduled', emp_id: empId, pushes: added });
        await armFromStore();
      } catch (err) {
        events.warn?.('could not schedule webhook pushes for a new push token', {
          emp_id: empId,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    },

    /** Sends what fell due while the server was down (when leading) and arms the timer. */
    start(): void {
      stopped = false;
      if (leading) run();
    },

    /** Whether this instance leads the timers, said again every lease period. */
    lead(now: boolean): void {
      if (stopped) return;
      const was = leading;
      leading = now;
      if (!now) return;
      if (!was) run();
      else if (!running && retryNotBefore === 0) {
        armFromStore().catch((err: unknown) => {
          retryNotBefore = clock.now() + failures.failed(err);
          arm(retryNotBefore);
        });
      }
    },

    /**
     * Stops: attempts in flight are cut short (their pushes fall due again at once, for
     * another instance or the next start) and recorded before this resolves.
     */
    async stop(): Promise<void> {
      stopped = true;
      timer?.cancel();
      timer = undefined;
      stopping.abort();
      await running;
    },
  };
}

function detailOf(
  platform: DevicePlatform,
  token: string,
  attempt: number,
  result: WebhookResult,
  next: PushNext,
): Record<string, unknown> {
  return {
    status: result.status,
    attempt,
    platform,
    token: tokenHint(token),
    ...(result.error ? { error: result.error } : {}),
    ...(next.state === 'due' ? { next_attempt_at: new Date(next.dueAt).toISOString() } : {}),
  };
}
