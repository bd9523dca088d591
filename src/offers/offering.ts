/**
 * Offering shifts: creating them (the seed's test shift too), offering them to everyone at
 * once or as a cascade, pushing the offers, and withdrawing a shift.
 */
import { ShiftctlError } from '../errors.js';
import type {
  CreateShiftRequest,
  Delivery,
  Priority,
  ShiftDetails,
  ShiftDetailView,
  ShiftStatus,
} from '../protocol/schemas.js';
import type { NewShift, OfferRecord, ShiftRecord } from '../store/types.js';
import { type Deadlines, defaultTtlFor } from './deadlines.js';
import type { Pushes } from './pushes.js';
import { type Reads, requireShift } from './reads.js';
import type { OfferServiceDeps } from './service.js';

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

export function createOffering(
  deps: OfferServiceDeps,
  pushes: Pushes,
  deadlines: Deadlines,
  reads: Reads,
) {
  const { store, fanout, clock, events } = deps;
  const { notify, push, pushChangedDetails } = pushes;
  const { advance, armDeadline } = deadlines;

  /**
   * The shift, created from the seed's test offer (with these fields in place) when unknown, or
   * taking these fields when it exists and is open; offered to `offerTo` in the same write, if
   * it is open (`offers` is absent when it is not). `priority` is the shift's as far as known
   * (see `needsPriority`), for the default deadline. The store's own promise, unwrapped: see
   * `push`.
   */
  function testShift(
    shiftId: number,
    fields: Partial<ShiftDetails>,
    offerTo: { empIds: readonly number[]; expiry: ExpiryInput } | undefined,
    priority: Priority | undefined,
  ): Promise<{ shift: ShiftRecord; created: boolean; offers?: OfferRecord[] }> {
    const offer = offerTo && {
      empIds: offerTo.empIds,
      expiresAt: expiryOf(offerTo.expiry, priority),
    };
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

  /**
   * Whether a test offer's default deadline needs the known shift's priority: only when an
   * urgent TTL is set, the request gives no deadline and the body no priority. Otherwise the
   * usual test offer stays one write, with no read before it.
   */
  function needsPriority(fields: Partial<ShiftDetails>, expiry: ExpiryInput): boolean {
    return (
      deps.urgentTtlSeconds !== undefined &&
      expiry.expiresAt === undefined &&
      expiry.ttlSeconds === undefined &&
      fields.priority === undefined
    );
  }

  /** The priority of a known shift (normal for a new one), for its default deadline. */
  async function knownPriority(shiftId: number): Promise<Priority> {
    return (await store.getShift(shiftId))?.priority ?? 'normal';
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

  /**
   * A deadline given as a moment must be to come: offers made with one already past would be
   * written and closed at once, while the request said they were sent or pending.
   */
  function refusePastExpiry(expiresAt: string | undefined): void {
    if (expiresAt !== undefined && Date.parse(expiresAt) <= clock.now()) {
      throw new ShiftctlError(
        'E_INVALID_BODY',
        `Invalid request body: expires_at: ${expiresAt} has passed; give a moment to come, or ttl_seconds.`,
      );
    }
  }

  /** The deadline of offers made now: the request's, else the default for the shift's priority. */
  function expiryOf(input: ExpiryInput, priority: Priority | undefined): number | null {
    if (input.expiresAt !== undefined) {
      refusePastExpiry(input.expiresAt);
      return Date.parse(input.expiresAt);
    }
    const ttl = input.ttlSeconds ?? defaultTtlFor(deps, priority);
    return ttl === undefined || ttl === null ? null : clock.now() + ttl * 1000;
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
        expiresAt: cascade ? null : expiryOf(expiry, shift.priority),
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

  return {
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
      const priority = needsPriority(overrides, expiry)
        ? await knownPriority(shiftId)
        : overrides.priority;
      const { shift, created, offers } = await testShift(
        shiftId,
        overrides,
        { empIds: [empId], expiry },
        priority,
      );
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
      const priority = needsPriority({}, expiry) ? await knownPriority(shiftId) : undefined;
      const ensured = await testShift(shiftId, {}, { empIds: targets, expiry }, priority);
      if (ensured.created) events.event({ event: 'shift_created', shift_id: shiftId });
      if (!ensured.offers) throw notOffered(shiftId, ensured.shift.status);
      const offers = await offer(ensured.shift, targets, expiry, ensured.offers);
      return offers.filter((o) => o.status === 'sent').length;
    },

    /** Creates a shift and, optionally, offers it to a list of employees in the same call. */
    async createShift(input: NewShiftInput, offerTo: readonly number[] = []) {
      const { ttlSeconds, expiresAt, ...shiftInput } = input;
      // Refused before the shift is written, so that a refused request leaves nothing behind.
      if (offerTo.length > 0) refusePastExpiry(expiresAt);
      const shift = await store.createShift(shiftInput, clock.now());
      events.event({ event: 'shift_created', shift_id: shift.id, mode: shift.mode });
      const offers =
        offerTo.length > 0 ? await offer(shift, offerTo, { ttlSeconds, expiresAt }) : [];
      return { shift: await reads.shift(shift.id), offers: offers.map(deliveryOf) };
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
      const shift = await requireShift(store, shiftId);
      const offers = await offer(shift, empIds, expiry);
      return { shift: await reads.shift(shiftId), offers: offers.map(deliveryOf) };
    },

    /**
     * Withdraws a shift: every offer not answered for good closes, assignments are cancelled
     * (a shift with slots left can have some), and everyone who held it or was assigned is told.
     */
    async withdraw(shiftId: number): Promise<ShiftDetailView> {
      const shift = await requireShift(store, shiftId);
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
      return reads.shiftDetail(shiftId);
    },
  };
}

function deliveryOf(o: OfferOutcome): { emp_id: number; status: OfferDeliveryStatus } {
  return { emp_id: o.emp_id, status: o.status };
}
