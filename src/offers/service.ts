/**
 * The offer rules: offering a shift (to everyone at once, or as a cascade), recovering open
 * offers, answering them first come first served (or as requests an operator approves),
 * deadlines, withdrawal, and telling everyone concerned. It knows the store, the fan-out and
 * the clock only through their interfaces, so tests drive it with a manual clock and the rules
 * stay the same whatever store or fan-out a deployment uses.
 */
import { ShiftctlError } from '../errors.js';
import type {
  ConnectionsResponse,
  CreateShiftRequest,
  Delivery,
  EmployeeView,
  HistoryItem,
  JournalEntry as JournalEntryView,
  OfferResultStatus,
  RespondRequest,
  RespondResponse,
  ShiftDetails,
  ShiftDetailView,
  ShiftOfferMessage,
  ShiftStatus,
  ShiftView,
} from '../protocol/schemas.js';
import type { JournalInput, NewShift, OfferRecord, ShiftRecord, Store } from '../store/types.js';
import type { Clock, EventSink, Fanout } from './ports.js';
import { failureStreak, type StreakLog } from './retry.js';
import { isoTime, toHistoryItem, toOfferMessage, toOfferState, toShiftView } from './views.js';

/** The seed's test offer (PROTOCOL.md, `POST /api/test/send_offer`). */
export const TEST_OFFER: ShiftDetails = {
  date: '2026-01-20',
  start_time: '09:00',
  end_time: '17:00',
  location_name: 'Outreach Center',
  client_name: 'Test Client',
  service_type: 'Home Care',
  description: 'Test shift offer from backend',
};
export const TEST_SHIFT_ID = 999;

export const MESSAGES = {
  assigned: 'Shift successfully assigned',
  requested: 'Request received: approval pending; you will be told when an operator decides',
  taken: 'Shift was already taken by another employee',
  rejected: 'Shift offer rejected',
} as const;

export type OfferDeliveryStatus = Delivery | 'answered' | 'queued';

export interface OfferOutcome {
  emp_id: number;
  status: OfferDeliveryStatus;
  devices: number;
}

/** When offers made now expire: an absolute time, or a time to live from now. */
export interface ExpiryInput {
  ttlSeconds?: number | undefined;
  expiresAt?: string | undefined;
}

export interface NewShiftInput extends NewShift, ExpiryInput {}

export interface OfferServiceDeps {
  store: Store;
  fanout: Fanout;
  clock: Clock;
  events: EventSink;
  /** Deadline for offers made without one (and cascade steps without a step TTL). */
  defaultTtlSeconds?: number | undefined;
  /**
   * With several instances, one leads the timers (see `lead`); the others tell it of every
   * deadline they write through this. Without it, this instance leads.
   */
  deadlineWritten?: ((at: number) => void) | undefined;
}

export type OfferService = ReturnType<typeof createOfferService>;

export function createOfferService(deps: OfferServiceDeps) {
  const { store, fanout, clock, events } = deps;
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

  async function requireShift(shiftId: number): Promise<ShiftRecord> {
    const shift = await store.getShift(shiftId);
    if (!shift) throw new ShiftctlError('E_SHIFT_NOT_FOUND', `Shift ${shiftId} does not exist.`);
    return shift;
  }

  /**
   * The shift, created from the seed's test offer (with these fields in place) when unknown, or
   * taking these fields when it exists and is open; offered to `offerTo` in the same write, if
   * it is open (`offers` is absent when it is not). The store's own promise, unwrapped: see
   * `push`.
   */
  function testShift(
    shiftId: number,
    fields: Partial<ShiftDetails>,
    offerTo?: { empIds: readonly number[]; expiry: ExpiryInput },
  ): Promise<{ shift: ShiftRecord; created: boolean; offers?: OfferRecord[] }> {
    const offer = offerTo && { empIds: offerTo.empIds, expiresAt: expiryOf(offerTo.expiry) };
    // Spelled out when nothing is overridden (the usual case): an object spread costs about a
    // microsecond on this hot path.
    const overridden = Object.keys(fields).length > 0;
    const shift = overridden
      ? { ...TEST_OFFER, ...fields, id: shiftId }
      : {
          id: shiftId,
          date: TEST_OFFER.date,
          start_time: TEST_OFFER.start_time,
          end_time: TEST_OFFER.end_time,
          location_name: TEST_OFFER.location_name,
          client_name: TEST_OFFER.client_name,
          service_type: TEST_OFFER.service_type,
          description: TEST_OFFER.description,
        };
    return store.ensureShift(shift, clock.now(), offer, overridden ? fields : undefined);
  }

  /** Why the store offered nothing: the shift is gone, assigned, or otherwise closed. */
  function notOffered(shiftId: number, status: ShiftStatus | undefined): ShiftctlError {
    if (status === undefined) {
      return new ShiftctlError('E_SHIFT_NOT_FOUND', `Shift ${shiftId} does not exist.`);
    }
    // Where to go from here: the seed's default shift 999 is taken by its first accept.
    const next = 'Offer another shift id, or start over with `shiftctl reset`.';
    if (status === 'assigned') {
      return new ShiftctlError(
        'E_SHIFT_TAKEN',
        `Shift ${shiftId} is already assigned; it can no longer be offered. ${next}`,
      );
    }
    return new ShiftctlError(
      'E_SHIFT_CLOSED',
      `Shift ${shiftId} is ${status}; it can no longer be offered. ${next}`,
    );
  }

  function expiryOf(input: ExpiryInput, fallbackSeconds?: number | null): number | null {
    if (input.expiresAt !== undefined) return Date.parse(input.expiresAt);
    const ttl = input.ttlSeconds ?? fallbackSeconds ?? deps.defaultTtlSeconds;
    return ttl === undefined || ttl === null ? null : clock.now() + ttl * 1000;
  }

  async function notify(empIds: number[], shiftId: number, status: OfferResultStatus) {
    if (empIds.length === 0) return;
    await fanout.publish(empIds, { type: 'offer_result', shift_id: shiftId, status });
  }

  /**
   * Pushes open offers, one serialisation per distinct deadline; returns devices per employee.
   *
   * Called in the first continuation after the store's write (no other await between them),
   * as the closing side (withdraw, assignment) tells holders in the first continuation after its
   * own write: the store settles a tick's writes in commit order, so the pushes leave in commit
   * order too, and an offer that a later write closed reaches a device before it is told so.
   */
  async function push(shift: ShiftRecord, offers: OfferRecord[]): Promise<Map<number, number>> {
    const byDeadline = new Map<number | null, number[]>();
    for (const o of offers) {
      const same = byDeadline.get(o.expiresAt);
      if (same) same.push(o.empId);
      else byDeadline.set(o.expiresAt, [o.empId]);
    }
    const devices = new Map<number, number>();
    // Delivery is marked by whichever instance writes to a socket (see `delivered`).
    for (const [expiresAt, empIds] of byDeadline) {
      const reached = await fanout.publish(empIds, toOfferMessage(shift, expiresAt));
      empIds.forEach((empId, i) => {
        devices.set(empId, reached[i] ?? 0);
      });
    }
    return devices;
  }

  /**
   * The shift's details changed: everyone else still holding an open offer of it gets the offer
   * again, with the new details (PROTOCOL.md's Additions; the app drops it as a duplicate,
   * richer clients replace their card). `except` was just offered it.
   */
  async function pushChangedDetails(shift: ShiftRecord, except: number): Promise<void> {
    const holders = (await store.offersForShift(shift.id)).filter(
      (o) => o.empId !== except && o.outcome === 'open' && o.sentAt !== null,
    );
    if (holders.length > 0) await push(shift, holders);
  }

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

  /** Closes every offer whose deadline has passed, tells its holders, moves cascades on. */
  async function expireDue(): Promise<void> {
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
    const step = await store.advanceCascade(shiftId, clock.now(), deps.defaultTtlSeconds);
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

  /**
   * Offers a shift to employees: all at once, or queued behind a cascade. Refused (and nothing
   * written or pushed) unless the shift is open when the offers are written.
   */
  async function offer(
    shift: ShiftRecord,
    empIds: readonly number[],
    expiry: ExpiryInput,
    /** The offers, when they were written with the shift (a test shift). */
    written?: OfferRecord[],
  ): Promise<OfferOutcome[]> {
    const cascade = shift.mode === 'cascade';
    let offers = written;
    if (!offers) {
      const added = await store.addOffers(shift.id, [...new Set(empIds)], clock.now(), {
        queued: cascade,
        expiresAt: cascade ? null : expiryOf(expiry),
      });
      if (!added.offered) throw notOffered(shift.id, added.status);
      offers = added.offers;
    }
    if (cascade) {
      const asked = await advance(shift.id);
      const now = new Map((await store.offersForShift(shift.id)).map((o) => [o.empId, o]));
      return offers.map((o) => {
        const current = now.get(o.empId) ?? o;
        const devices = asked?.empId === o.empId ? asked.devices : 0;
        const status: OfferDeliveryStatus =
          current.outcome === 'queued'
            ? 'queued'
            : current.outcome !== 'open'
              ? 'answered'
              : devices > 0
                ? 'sent'
                : 'pending';
        return { emp_id: o.empId, status, devices };
      });
    }
    const open = offers.filter((o) => o.response === null && o.outcome === 'open');
    const devices = await push(shift, open);
    // Only a new deadline can need the timer earlier; closing offers never does (a timer
    // that fires for an offer already closed finds nothing and re-arms for the next one).
    const earliest = Math.min(...open.map((o) => o.expiresAt ?? Number.POSITIVE_INFINITY));
    if (earliest !== Number.POSITIVE_INFINITY) await armDeadline(earliest);
    return offers.map((o): OfferOutcome => {
      const reached = devices.get(o.empId);
      const status: OfferDeliveryStatus =
        reached === undefined ? 'answered' : reached > 0 ? 'sent' : 'pending';
      if (status !== 'answered') {
        events.event({
          event: 'offer',
          shift_id: shift.id,
          emp_id: o.empId,
          status,
          devices: reached,
        });
      }
      return { emp_id: o.empId, status, devices: reached ?? 0 };
    });
  }

  function respondBody(
    req: { emp_id: number; shift_id: number },
    offer: Pick<OfferRecord, 'outcome' | 'response'>,
    at: number,
  ): RespondResponse {
    const message =
      offer.response === 'rejected'
        ? MESSAGES.rejected
        : offer.outcome === 'assigned'
          ? MESSAGES.assigned
          : offer.outcome === 'requested'
            ? MESSAGES.requested
            : MESSAGES.taken;
    return {
      success: true,
      assigned: offer.outcome === 'assigned',
      message,
      timestamp: isoTime(at),
      shift_id: req.shift_id,
      emp_id: req.emp_id,
      outcome: offer.outcome,
    };
  }

  /** Tells the winner and those who lost the shift with this assignment. */
  async function announceAssignment(shiftId: number, empId: number, closed: number[]) {
    events.event({ event: 'assigned', shift_id: shiftId, emp_id: empId });
    await notify([empId], shiftId, 'assigned');
    if (closed.length > 0) {
      events.event({ event: 'taken', shift_id: shiftId, notified: closed.length });
      await notify(closed, shiftId, 'taken');
    }
  }

  function refuseClosedOffer(offer: OfferRecord): void {
    if (offer.outcome === 'withdrawn' && offer.response !== null) {
      throw new ShiftctlError(
        'E_OFFER_WITHDRAWN',
        `Shift ${offer.shiftId} was withdrawn after employee ${offer.empId} answered it; the answer no longer holds.`,
      );
    }
    if (offer.outcome === 'expired') {
      throw new ShiftctlError(
        'E_OFFER_EXPIRED',
        `The offer of shift ${offer.shiftId} to employee ${offer.empId} expired before it was answered.`,
      );
    }
    if (offer.outcome === 'withdrawn') {
      throw new ShiftctlError(
        'E_OFFER_WITHDRAWN',
        `Shift ${offer.shiftId} was withdrawn before employee ${offer.empId} answered.`,
      );
    }
  }

  return {
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

    /** Notes that these employees' sockets on this instance were written the offer. */
    markDelivered(shiftId: number, empIds: readonly number[]): void {
      store.markDelivered(shiftId, empIds, clock.now());
    },

    /** The seed's test endpoint: create the shift when unknown, then offer it to one employee. */
    async sendTestOffer(
      empId: number,
      shiftId: number,
      overrides: Partial<ShiftDetails>,
      expiry: ExpiryInput = {},
    ): Promise<OfferOutcome> {
      const { shift, created, offers } = await testShift(shiftId, overrides, {
        empIds: [empId],
        expiry,
      });
      if (created) events.event({ event: 'shift_created', shift_id: shiftId });
      if (!offers) throw notOffered(shiftId, shift.status);
      const [result] = await offer(shift, [empId], expiry, offers);
      if (!created && Object.keys(overrides).length > 0) await pushChangedDetails(shift, empId);
      if (!result || result.status === 'answered') {
        const prior = await store.getOffer(shiftId, empId);
        throw new ShiftctlError(
          'E_OFFER_ANSWERED',
          `Employee ${empId} already answered shift ${shiftId} (${prior?.response ?? prior?.outcome ?? 'answered'}); offer another shift_id.`,
        );
      }
      return result;
    },

    /** Offers a shift (created from the test offer when unknown) to every connected employee in a range. */
    async broadcast(
      from: number,
      to: number,
      shiftId: number,
      expiry: ExpiryInput = {},
    ): Promise<number> {
      const targets = fanout.connectedIn
        ? await fanout.connectedIn(from, to)
        : [...(await fanout.presence()).keys()].filter((id) => id >= from && id <= to);
      // The shift is created if need be and offered in one write, as by the test endpoint.
      const ensured = await testShift(shiftId, {}, { empIds: targets, expiry });
      if (ensured.created) events.event({ event: 'shift_created', shift_id: shiftId });
      if (!ensured.offers) throw notOffered(shiftId, ensured.shift.status);
      const offers = await offer(ensured.shift, targets, expiry, ensured.offers);
      return offers.filter((o) => o.status === 'sent').length;
    },

    /** Creates a shift and, optionally, offers it to a list of employees in the same call. */
    async createShift(input: NewShiftInput, offerTo: readonly number[] = []) {
      const { ttlSeconds, expiresAt, ...shiftInput } = input;
      const shift = await store.createShift(shiftInput, clock.now());
      events.event({ event: 'shift_created', shift_id: shift.id, mode: shift.mode });
      const offers =
        offerTo.length > 0 ? await offer(shift, offerTo, { ttlSeconds, expiresAt }) : [];
      return { shift: await this.shift(shift.id), offers: offers.map(deliveryOf) };
    },

    /** `POST /api/admin/shifts` (and a scenario's `create_shift`): the wire body, as it comes. */
    createShiftRequest(body: CreateShiftRequest) {
      const {
        offer_to: offerTo,
        step_ttl_seconds: stepTtlS,
        ttl_seconds: ttlSeconds,
        expires_at: expiresAt,
        ...shift
      } = body;
      return this.createShift({ ...shift, stepTtlS, ttlSeconds, expiresAt }, offerTo);
    },

    async offerShift(shiftId: number, empIds: readonly number[], expiry: ExpiryInput = {}) {
      // Read for its mode and details; whether it is open is decided by the write.
      const shift = await requireShift(shiftId);
      const offers = await offer(shift, empIds, expiry);
      return { shift: await this.shift(shiftId), offers: offers.map(deliveryOf) };
    },

    /**
     * Records an answer. First come, first served: exactly `slots` accepters ever win. The store
     * records it atomically when the offer can be answered; only when it could not is the offer
     * read, to say why (never offered, answered before, closed, or past its deadline).
     */
    async respond(req: RespondRequest): Promise<RespondResponse> {
      const { emp_id: empId, shift_id: shiftId, response } = req;
      // Each pass records the answer or learns something that ends the next one; a concurrent
      // answer can cost one more pass, never more.
      for (let pass = 0; pass < 4; pass++) {
        const at = clock.now();
        if (response === 'rejected') {
          const outcome = await store.reject(shiftId, empId, at);
          if (outcome) {
            events.event({ event: 'answer', shift_id: shiftId, emp_id: empId, response });
            // Every device of the employee closes the offer, whichever of them answered.
            if (outcome === 'rejected') await notify([empId], shiftId, 'rejected');
            await advanceAfterAnswer(shiftId);
            return respondBody(req, { response, outcome }, at);
          }
        } else {
          const claim = await store.claim(shiftId, empId, at);
          if (claim.recorded) {
            events.event({
              event: 'answer',
              shift_id: shiftId,
              emp_id: empId,
              response,
              outcome: claim.outcome,
            });
            if (claim.outcome === 'assigned') {
              await announceAssignment(shiftId, empId, claim.closed);
              if (!claim.shiftFilled) await advanceAfterAnswer(shiftId);
            } else if (claim.outcome === 'requested') {
              await notify([empId], shiftId, 'requested');
            }
            return respondBody(req, { response, outcome: claim.outcome }, at);
          }
        }
        const existing = await store.getOffer(shiftId, empId);
        if (!existing || existing.sentAt === null) {
          throw new ShiftctlError(
            'E_OFFER_NOT_FOUND',
            `Shift ${shiftId} was never offered to employee ${empId}.`,
          );
        }
        // An answer to a withdrawn shift, late or retried, holds nothing any more.
        if (existing.outcome === 'withdrawn') refuseClosedOffer(existing);
        if (existing.response !== null) {
          if (existing.response !== response) {
            throw new ShiftctlError(
              'E_ANSWER_CONFLICT',
              `Employee ${empId} already ${existing.response} shift ${shiftId}; an answer cannot be changed.`,
              { recorded: existing.response },
            );
          }
          // A retry (say, after a timeout on the phone): the outcome as it stands.
          return respondBody(req, existing, existing.answeredAt ?? clock.now());
        }
        if (
          existing.outcome === 'open' &&
          existing.expiresAt !== null &&
          existing.expiresAt <= at
        ) {
          // The deadline passed but its timer has not fired yet: close it now, and say so.
          await expireDue();
          continue;
        }
        refuseClosedOffer(existing);
      }
      throw new ShiftctlError(
        'E_INTERNAL',
        `The answer of employee ${empId} to shift ${shiftId} could not be recorded; try again.`,
      );
    },

    /** Approval mode: the operator gives the shift to one employee who asked for it. */
    async approve(shiftId: number, empId: number): Promise<ShiftDetailView> {
      const shift = await requireShift(shiftId);
      if (!shift.approval) {
        throw new ShiftctlError(
          'E_NOT_REQUESTED',
          `Shift ${shiftId} does not need approval; the first accepter gets it.`,
        );
      }
      const result = await store.approve(shiftId, empId, clock.now());
      if (!result?.recorded) {
        const offer = await store.getOffer(shiftId, empId);
        if (offer?.outcome === 'withdrawn') {
          throw new ShiftctlError(
            'E_SHIFT_CLOSED',
            `Shift ${shiftId} was withdrawn; there is nothing to approve.`,
          );
        }
        if (offer?.outcome === 'taken' && offer.response === 'accepted') {
          throw new ShiftctlError(
            'E_SHIFT_TAKEN',
            `Shift ${shiftId} has no slot left; employee ${empId}'s request was turned down.`,
          );
        }
        if (!offer || offer.sentAt === null) {
          throw new ShiftctlError(
            'E_OFFER_NOT_FOUND',
            `Shift ${shiftId} was never offered to employee ${empId}.`,
          );
        }
        throw new ShiftctlError(
          'E_NOT_REQUESTED',
          offer.outcome === 'assigned'
            ? `Employee ${empId} already has shift ${shiftId}; there is nothing to approve.`
            : `Employee ${empId} has not asked for shift ${shiftId} (their offer is ${offer.outcome}).`,
        );
      }
      if (result.outcome !== 'assigned') {
        await notify([empId], shiftId, 'taken');
        throw new ShiftctlError('E_SHIFT_TAKEN', `Shift ${shiftId} has no slot left.`);
      }
      events.event({ event: 'approved', shift_id: shiftId, emp_id: empId });
      await announceAssignment(shiftId, empId, result.closed);
      if (!result.shiftFilled) await advanceAfterAnswer(shiftId);
      return this.shiftDetail(shiftId);
    },

    /**
     * Withdraws a shift: every offer not answered for good closes, assignments are cancelled
     * (a shift with slots left can have some), and everyone who held it or was assigned is told.
     */
    async withdraw(shiftId: number): Promise<ShiftDetailView> {
      const shift = await requireShift(shiftId);
      const holders = await store.withdraw(shiftId, clock.now());
      if (!holders) {
        const status = (await store.getShift(shiftId))?.status ?? shift.status;
        throw new ShiftctlError(
          status === 'assigned' ? 'E_SHIFT_TAKEN' : 'E_SHIFT_CLOSED',
          `Shift ${shiftId} is ${status}; only an open shift can be withdrawn.`,
        );
      }
      events.event({ event: 'withdrawn', shift_id: shiftId, notified: holders.length });
      await notify(holders, shiftId, 'withdrawn');
      return this.shiftDetail(shiftId);
    },

    /** Open offers the employee has not answered: the offline-recovery list. */
    async pending(empId: number): Promise<ShiftOfferMessage[]> {
      const offers = await store.openOffersFor(empId);
      return offers.map(({ shift, offer }) => toOfferMessage(shift, offer.expiresAt));
    },

    /** Notes that offers replayed on connect reached the socket. */
    delivered(empId: number, shiftIds: readonly number[]): void {
      const at = clock.now();
      for (const shiftId of shiftIds) store.markDelivered(shiftId, [empId], at);
    },

    async history(empId: number, limit: number): Promise<HistoryItem[]> {
      return (await store.history(empId, limit)).map(toHistoryItem);
    },

    async availability(shiftId: number): Promise<{
      available: boolean;
      shift_id: number;
      status: ShiftStatus;
    }> {
      const shift = await requireShift(shiftId);
      return { available: shift.status === 'open', shift_id: shiftId, status: shift.status };
    },

    async shifts(status?: ShiftStatus): Promise<ShiftView[]> {
      return (await store.listShifts({ status })).map(toShiftView);
    },

    async shift(shiftId: number): Promise<ShiftView> {
      const [summary] = await store.listShifts({ id: shiftId });
      if (!summary)
        throw new ShiftctlError('E_SHIFT_NOT_FOUND', `Shift ${shiftId} does not exist.`);
      return toShiftView(summary);
    },

    async shiftDetail(shiftId: number): Promise<ShiftDetailView> {
      const view = await this.shift(shiftId);
      const offers = await store.offersForShift(shiftId);
      return { ...view, holders: offers.map(toOfferState) };
    },

    async employees(): Promise<EmployeeView[]> {
      const [list, presence] = await Promise.all([store.employees(), fanout.presence()]);
      return list.map((e) => ({
        emp_id: e.empId,
        name: e.name,
        devices: presence.get(e.empId) ?? 0,
        pending: e.pending,
        assigned: e.assigned,
      }));
    },

    async connections(): Promise<ConnectionsResponse> {
      const [presence, counts] = await Promise.all([fanout.presence(), store.pendingCounts()]);
      const ids = [...new Set([...presence.keys(), ...counts.keys()])].sort((a, b) => a - b);
      const active = [...presence.keys()].sort((a, b) => a - b);
      return {
        active_connections: active,
        total: active.length,
        sockets: [...presence.values()].reduce((a, b) => a + b, 0),
        employees: ids.map((id) => ({
          emp_id: id,
          connected: presence.has(id),
          devices: presence.get(id) ?? 0,
          pending: counts.get(id) ?? 0,
        })),
      };
    },

    /** Appends to the journal (batched by the store, never awaited). */
    record(entry: JournalInput): void {
      store.journal(entry);
    },

    async journal(filter: {
      emp_id?: number | undefined;
      shift_id?: number | undefined;
      kind?: 'push' | 'request' | undefined;
      after_id?: number | undefined;
      limit?: number | undefined;
    }): Promise<JournalEntryView[]> {
      const entries = await store.readJournal({
        empId: filter.emp_id,
        shiftId: filter.shift_id,
        kind: filter.kind,
        afterId: filter.after_id,
        limit: filter.limit ?? 100,
      });
      return entries.map((e) => ({
        id: e.id,
        time: isoTime(e.at),
        kind: e.kind,
        emp_id: e.empId,
        shift_id: e.shiftId,
        name: e.name,
        outcome: e.outcome,
        detail: e.detail,
      }));
    },

    /** Clears every shift, offer and journal line (for test suites). */
    async reset(): Promise<void> {
      deadline?.cancel();
      deadline = undefined;
      unsettled.clear();
      // Whoever still holds an offer is told it is gone, so no prompt stays open on a shift
      // that no longer exists (a rare, operator-only call: a read per open shift is fine).
      const held: Array<[number, number[]]> = [];
      for (const { shift } of await store.listShifts({ status: 'open' })) {
        const holders = (await store.offersForShift(shift.id))
          .filter((o) => o.sentAt !== null && (o.outcome === 'open' || o.outcome === 'requested'))
          .map((o) => o.empId);
        if (holders.length > 0) held.push([shift.id, holders]);
      }
      await store.reset(clock.now());
      for (const [shiftId, holders] of held) await notify(holders, shiftId, 'withdrawn');
      events.event({ event: 'reset' });
    },
  };
}

function deliveryOf(o: OfferOutcome): { emp_id: number; status: OfferDeliveryStatus } {
  return { emp_id: o.emp_id, status: o.status };
}
