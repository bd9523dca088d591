/**
 * What the service reads and shows: pending offers, history, shifts, employees, connections
 * and the journal (with the marks and lines it appends along the way).
 */
import { ShiftctlError } from '../errors.js';
import type {
  ConnectionsResponse,
  EmployeeView,
  HistoryItem,
  JournalEntry as JournalEntryView,
  ShiftDetailView,
  ShiftOfferMessage,
  ShiftStatus,
  ShiftView,
} from '../protocol/schemas.js';
import type { JournalInput, ShiftRecord, Store } from '../store/types.js';
import type { OfferServiceDeps } from './service.js';
import { isoTime, toHistoryItem, toOfferMessage, toOfferState, toShiftView } from './views.js';

/** The shift, or E_SHIFT_NOT_FOUND when there is none. */
export async function requireShift(store: Store, shiftId: number): Promise<ShiftRecord> {
  const shift = await store.getShift(shiftId);
  if (!shift) throw new ShiftctlError('E_SHIFT_NOT_FOUND', `Shift ${shiftId} does not exist.`);
  return shift;
}

export function createReads(deps: OfferServiceDeps) {
  const { store, fanout, clock, journalRecorded } = deps;

  return {
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
      const shift = await requireShift(store, shiftId);
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
      journalRecorded?.(entry);
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
  };
}

export type Reads = ReturnType<typeof createReads>;
