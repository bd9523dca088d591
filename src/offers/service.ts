/**
 * The offer rules: offering a shift, recovering open offers, answering them first come first
 * served, and telling everyone else. It knows the store, the fan-out and the clock only through
 * their interfaces, so tests drive it with a manual clock and the rules stay the same whatever
 * store or fan-out a deployment uses.
 */
import { ShiftctlError } from '../errors.js';
import type {
  ConnectionsResponse,
  Delivery,
  EmployeeView,
  HistoryItem,
  OfferResultStatus,
  RespondRequest,
  RespondResponse,
  ShiftDetails,
  ShiftDetailView,
  ShiftOfferMessage,
  ShiftStatus,
  ShiftView,
} from '../protocol/schemas.js';
import type { NewShift, OfferRecord, ShiftRecord, Store } from '../store/types.js';
import type { Clock, EventSink, Fanout } from './ports.js';
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
  taken: 'Shift was already taken by another employee',
  rejected: 'Shift offer rejected',
} as const;

export type OfferDeliveryStatus = Delivery | 'answered';

export interface OfferOutcome {
  emp_id: number;
  status: OfferDeliveryStatus;
  devices: number;
}

export interface OfferServiceDeps {
  store: Store;
  fanout: Fanout;
  clock: Clock;
  events: EventSink;
}

export type OfferService = ReturnType<typeof createOfferService>;

export function createOfferService({ store, fanout, clock, events }: OfferServiceDeps) {
  async function requireShift(shiftId: number): Promise<ShiftRecord> {
    const shift = await store.getShift(shiftId);
    if (!shift) throw new ShiftctlError('E_SHIFT_NOT_FOUND', `Shift ${shiftId} does not exist.`);
    return shift;
  }

  function refuseIfTaken(shift: ShiftRecord): void {
    if (shift.status !== 'open') {
      throw new ShiftctlError(
        'E_SHIFT_TAKEN',
        `Shift ${shift.id} is already ${shift.status}; it can no longer be offered.`,
      );
    }
  }

  async function notify(empIds: number[], shiftId: number, status: OfferResultStatus) {
    if (empIds.length === 0) return;
    await fanout.publish(empIds, { type: 'offer_result', shift_id: shiftId, status });
  }

  /** Offers an open shift to employees and pushes it to those connected. */
  async function offer(shift: ShiftRecord, empIds: readonly number[]): Promise<OfferOutcome[]> {
    const at = clock.now();
    const unique = [...new Set(empIds)];
    const offers = await store.addOffers(shift.id, unique, at);
    const open = offers.filter((o) => o.response === null && o.outcome === 'open');
    const reached = await fanout.publish(
      open.map((o) => o.empId),
      toOfferMessage(shift),
    );
    const devicesOf = new Map(open.map((o, i) => [o.empId, reached[i] ?? 0]));
    const delivered = open.filter((o) => (devicesOf.get(o.empId) ?? 0) > 0).map((o) => o.empId);
    store.markDelivered(shift.id, delivered, at);
    return offers.map((o: OfferRecord): OfferOutcome => {
      const devices = devicesOf.get(o.empId);
      const status: OfferDeliveryStatus =
        devices === undefined ? 'answered' : devices > 0 ? 'sent' : 'pending';
      if (status !== 'answered') {
        events.event({ event: 'offer', shift_id: shift.id, emp_id: o.empId, status, devices });
      }
      return { emp_id: o.empId, status, devices: devices ?? 0 };
    });
  }

  function respondBody(
    req: { emp_id: number; shift_id: number },
    offer: Pick<OfferRecord, 'outcome' | 'response'>,
    at: number,
  ): RespondResponse {
    const assigned = offer.outcome === 'assigned';
    const message =
      offer.response === 'rejected'
        ? MESSAGES.rejected
        : assigned
          ? MESSAGES.assigned
          : MESSAGES.taken;
    return {
      success: true,
      assigned,
      message,
      timestamp: isoTime(at),
      shift_id: req.shift_id,
      emp_id: req.emp_id,
      outcome: offer.outcome,
    };
  }

  return {
    /** The seed's test endpoint: create the shift when unknown, then offer it to one employee. */
    async sendTestOffer(
      empId: number,
      shiftId: number,
      overrides: Partial<ShiftDetails>,
    ): Promise<OfferOutcome> {
      let shift = await store.getShift(shiftId);
      if (!shift) {
        try {
          shift = await store.createShift(
            { ...TEST_OFFER, ...overrides, id: shiftId },
            clock.now(),
          );
          events.event({ event: 'shift_created', shift_id: shift.id });
        } catch (err) {
          // Two first offers of the same new shift at once: the loser uses the winner's shift.
          if (!(err instanceof ShiftctlError && err.code === 'E_SHIFT_EXISTS')) throw err;
          shift = await requireShift(shiftId);
        }
      } else if (Object.keys(overrides).length > 0) {
        shift = (await store.updateShiftDetails(shiftId, overrides)) ?? shift;
      }
      refuseIfTaken(shift);
      const [result] = await offer(shift, [empId]);
      if (!result || result.status === 'answered') {
        const prior = await store.getOffer(shiftId, empId);
        throw new ShiftctlError(
          'E_OFFER_ANSWERED',
          `Employee ${empId} already answered shift ${shiftId} (${prior?.response ?? 'answered'}); offer another shift_id.`,
        );
      }
      return result;
    },

    /** Creates a shift and, optionally, offers it to a list of employees in the same call. */
    async createShift(input: NewShift, offerTo: readonly number[] = []) {
      const shift = await store.createShift(input, clock.now());
      events.event({ event: 'shift_created', shift_id: shift.id });
      const offers = offerTo.length > 0 ? await offer(shift, offerTo) : [];
      return { shift: await this.shift(shift.id), offers: offers.map(deliveryOf) };
    },

    async offerShift(shiftId: number, empIds: readonly number[]) {
      const shift = await requireShift(shiftId);
      refuseIfTaken(shift);
      const offers = await offer(shift, empIds);
      return { shift: await this.shift(shiftId), offers: offers.map(deliveryOf) };
    },

    /** Records an answer. First come, first served: exactly `slots` accepters ever win. */
    async respond(req: RespondRequest): Promise<RespondResponse> {
      const { emp_id: empId, shift_id: shiftId, response } = req;
      for (;;) {
        const existing = await store.getOffer(shiftId, empId);
        if (!existing) {
          throw new ShiftctlError(
            'E_OFFER_NOT_FOUND',
            `Shift ${shiftId} was never offered to employee ${empId}.`,
          );
        }
        if (existing.response !== null) {
          if (existing.response !== response) {
            throw new ShiftctlError(
              'E_ANSWER_CONFLICT',
              `Employee ${empId} already ${existing.response} shift ${shiftId}; an answer cannot be changed.`,
              { recorded: existing.response },
            );
          }
          // A retry (say, after a timeout on the phone): the original outcome, unchanged.
          return respondBody(req, existing, existing.answeredAt ?? clock.now());
        }
        const at = clock.now();
        if (response === 'rejected') {
          if (!(await store.reject(shiftId, empId, at))) continue; // a concurrent answer won
          events.event({ event: 'answer', shift_id: shiftId, emp_id: empId, response });
          return respondBody(
            req,
            { response, outcome: existing.outcome === 'open' ? 'rejected' : existing.outcome },
            at,
          );
        }
        const claim = await store.claim(shiftId, empId, at);
        if (!claim.recorded) continue;
        const outcome = claim.won ? 'assigned' : 'taken';
        events.event({ event: 'answer', shift_id: shiftId, emp_id: empId, response, outcome });
        if (claim.won) {
          events.event({ event: 'assigned', shift_id: shiftId, emp_id: empId });
          await notify([empId], shiftId, 'assigned');
          if (claim.closed.length > 0) {
            events.event({ event: 'taken', shift_id: shiftId, notified: claim.closed.length });
            await notify(claim.closed, shiftId, 'taken');
          }
        }
        return respondBody(req, { response, outcome }, at);
      }
    },

    /** Open offers the employee has not answered: the offline-recovery list. */
    async pending(empId: number): Promise<ShiftOfferMessage[]> {
      const offers = await store.openOffersFor(empId);
      return offers.map(({ shift }) => toOfferMessage(shift));
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
  };
}

function deliveryOf(o: OfferOutcome): { emp_id: number; status: OfferDeliveryStatus } {
  return { emp_id: o.emp_id, status: o.status };
}
