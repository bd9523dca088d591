/**
 * Telling employees: offers pushed to their devices, and the result of an offer they held.
 */
import type { OfferResultStatus } from '../protocol/schemas.js';
import type { OfferRecord, ShiftRecord } from '../store/types.js';
import type { OfferServiceDeps } from './service.js';
import { toOfferMessage } from './views.js';

export function createPushes(deps: Pick<OfferServiceDeps, 'store' | 'fanout' | 'pushFallback'>) {
  const { store, fanout, pushFallback } = deps;

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
    if (pushFallback) {
      const missed = offers.filter((o) => devices.get(o.empId) === 0).map((o) => o.empId);
      if (missed.length > 0) await pushFallback.schedule(shift.id, missed);
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

  return { notify, push, pushChangedDetails };
}

export type Pushes = ReturnType<typeof createPushes>;
