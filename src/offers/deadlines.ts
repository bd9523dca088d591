/**
 * The timers: offers closed at their deadline, cascades moved on to the next employee, the
 * retry of a run that failed, and which instance of several leads them.
 */
import type { Priority } from '../protocol/schemas.js';
import type { Pushes } from './pushes.js';
import { failureStreak, type StreakLog } from './retry.js';
import type { OfferServiceDeps } from './service.js';

/**
 * The deadline, in seconds, of an offer (or cascade step) made without one: `--urgent-ttl` for an
 * urgent shift when set, else `--offer-ttl`; undefined for none.
 */
export function defaultTtlFor(
  deps: Pick<OfferServiceDeps, 'defaultTtlSeconds' | 'urgentTtlSeconds'>,
  priority: Priority | undefined,
): number | undefined {
  return (priority === 'urgent' ? deps.urgentTtlSeconds : undefined) ?? deps.defaultTtlSeconds;
}

export function createDeadlines(deps: OfferServiceDeps, pushes: Pushes) {
  const { store, clock, events } = deps;
  const { notify, push } = pushes;
  let deadline: { at: number; cancel: () => void } | undefined;
  let stopped = false;
  /** Whether this instance runs deadlines and cascade steps (one instance of several does). */
  let leading = deps.deadlineWritten === undefined;
  /** While the deadline job fails, it runs no earlier than this (its backoff). */
  let retryNotBefore = 0;
  /**
   * Shifts with work left by a failed run: holders of offers closed at their deadline still to
   * tell, or a cascade to move on (after an expiry or an answer). The deadline job's retry
   * takes them up.
   */
  const unsettled = new Map<number, number[]>();
  const streakLog: StreakLog = {
    warn: (message, fields) =>
      events.warn
        ? events.warn(message, fields)
        : events.event({ event: 'warning', message, ...fields }),
    recovered: (fields) => events.event({ event: 'recovered', ...fields }),
  };
  const deadlineFailures = failureStreak(
    'closing offers at their deadline and moving cascades on',
    streakLog,
  );

  /**
   * Keeps one timer, at the earliest open deadline (or the retry of a failed run, if later).
   * An instance that does not lead the timers only tells the leader of `written`, a deadline it
   * just wrote.
   */
  async function armDeadline(written?: number | null): Promise<void> {
    if (stopped) return;
    if (!leading) {
      if (written !== undefined && written !== null) deps.deadlineWritten?.(written);
      return;
    }
    // Holders left untold by a failed run are due now (after the backoff, if failing).
    const due = unsettled.size > 0 ? clock.now() : await store.nextDeadline();
    const next = due === undefined ? undefined : Math.max(due, retryNotBefore);
    if (deadline && deadline.at === next) return;
    deadline?.cancel();
    deadline = undefined;
    if (next === undefined) return;
    deadline = { at: next, cancel: clock.schedule(next, runDeadlines) };
  }

  /**
   * The deadline timer's job. A run that fails (the database full or locked) is logged once
   * per streak and tried again with a backoff; it never ends the process or leaves the timer
   * unarmed.
   */
  function runDeadlines(): void {
    expireDue().then(
      () => deadlineFailures.succeeded(),
      (err: unknown) => retryDeadlines(err),
    );
  }

  function retryDeadlines(err: unknown, context?: Record<string, unknown>): void {
    if (stopped) return;
    const retryAt = clock.now() + deadlineFailures.failed(err, context);
    retryNotBefore = retryAt;
    deadline?.cancel();
    deadline = { at: retryAt, cancel: clock.schedule(retryAt, runDeadlines) };
  }

  /**
   * Moves a cascade on after an answer. The answer is recorded by then, so a failure here is
   * not the caller's: the deadline job's retry moves the cascade on instead.
   */
  async function advanceAfterAnswer(shiftId: number): Promise<void> {
    try {
      await advance(shiftId);
    } catch (err) {
      if (!unsettled.has(shiftId)) unsettled.set(shiftId, []);
      retryDeadlines(err, { shift_id: shiftId });
    }
  }

  /**
   * Closes every offer whose deadline has passed, tells its holders, moves cascades on. One run
   * at a time: a run asked for while another is under way (the timer re-armed by the lease's
   * renewal or by another instance's deadline) waits for it, or both would tell the holders of
   * the offers the first one had not finished telling.
   */
  let running: Promise<void> = Promise.resolve();
  function expireDue(): Promise<void> {
    const run = running.then(expireOnce);
    running = run.catch(() => {});
    return run;
  }

  async function expireOnce(): Promise<void> {
    deadline?.cancel();
    deadline = undefined;
    for (const { shiftId, empIds } of await store.expireDue(clock.now())) {
      events.event({ event: 'expired', shift_id: shiftId, emp_ids: empIds });
      unsettled.set(shiftId, [...(unsettled.get(shiftId) ?? []), ...empIds]);
    }
    // Shift by shift, so that one that fails (kept for the retry) holds up no other.
    let failure: { err: unknown } | undefined;
    for (const [shiftId, empIds] of unsettled) {
      try {
        await notify(empIds, shiftId, 'expired');
        unsettled.set(shiftId, []);
        await advance(shiftId);
        unsettled.delete(shiftId);
      } catch (err) {
        failure ??= { err };
      }
    }
    if (!failure) retryNotBefore = 0;
    await armDeadline();
    if (failure) throw failure.err;
  }

  /**
   * Cascade: asks the next employee in line once nobody holds the shift. Resolves to the
   * employee asked and how many of their devices got it, if anyone was asked.
   */
  async function advance(shiftId: number): Promise<{ empId: number; devices: number } | undefined> {
    const shift = await store.getShift(shiftId);
    if (shift?.mode !== 'cascade' || shift.status !== 'open') return undefined;
    const step = await store.advanceCascade(
      shiftId,
      clock.now(),
      defaultTtlFor(deps, shift.priority),
    );
    if (step) {
      const devices = (await push(shift, [step])).get(step.empId) ?? 0;
      events.event({
        event: 'cascade_step',
        shift_id: shiftId,
        emp_id: step.empId,
        position: step.position,
        status: devices > 0 ? 'sent' : 'pending',
      });
      await armDeadline(step.expiresAt);
      return { empId: step.empId, devices };
    }
    const after = await store.getShift(shiftId);
    if (after?.status === 'unfilled') events.event({ event: 'unfilled', shift_id: shiftId });
    return undefined;
  }

  return {
    armDeadline,
    advance,
    advanceAfterAnswer,
    expireDue,
    /** Drops the timer and the work a failed run left (the store is being cleared). */
    clear(): void {
      deadline?.cancel();
      deadline = undefined;
      unsettled.clear();
    },
    /** The service's public calls that start, stop and lead the timers. */
    api: {
      /** Closes deadlines that passed while the server was down and arms the next one. */
      async start(): Promise<void> {
        stopped = false;
        await expireDue();
      },

      stop(): void {
        stopped = true;
        deadline?.cancel();
        deadline = undefined;
      },

      /**
       * Whether this instance leads the timers, said again every lease period. Taking the lead
       * closes what fell due meanwhile and arms the timer; keeping it re-arms from the store (a
       * cheap read that catches a deadline whose message was lost); losing it drops the timer.
       */
      lead(now: boolean): void {
        if (stopped) return;
        const was = leading;
        leading = now;
        if (!now) {
          deadline?.cancel();
          deadline = undefined;
          // Said, so that the log shows which instance leads (a lease lost to a stall or a cut
          // link hands the timers to another instance).
          if (was) events.event({ event: 'stopped_leading_timers' });
          return;
        }
        if (!was) {
          events.event({ event: 'leading_timers' });
          runDeadlines();
        } else if (retryNotBefore === 0) {
          armDeadline().catch((err: unknown) => retryDeadlines(err));
        }
      },

      /** Another instance wrote an offer due at `at`: the leader's timer moves earlier if need be. */
      deadlineAt(at: number): void {
        if (!leading || stopped || (deadline && deadline.at <= at)) return;
        armDeadline().catch((err: unknown) => retryDeadlines(err));
      },
    },
  };
}

export type Deadlines = ReturnType<typeof createDeadlines>;
