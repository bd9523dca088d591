/**
 * The offer rules: offering a shift (to everyone at once, or as a cascade), recovering open
 * offers, answering them first come first served (or as requests an operator approves),
 * deadlines, withdrawal, and telling everyone concerned. It knows the store, the fan-out and
 * the clock only through their interfaces, so tests drive it with a manual clock and the rules
 * stay the same whatever store or fan-out a deployment uses.
 *
 * This module assembles the service from its parts: pushes.ts (telling employees),
 * deadlines.ts (the timers), offering.ts, answers.ts and reads.ts (what it shows).
 */
import type { JournalInput, Store } from '../store/types.js';
import { createAnswers } from './answers.js';
import { createDeadlines } from './deadlines.js';
import { createDevices } from './devices.js';
import { createOffering } from './offering.js';
import type { Clock, EventSink, Fanout } from './ports.js';
import { createPushes } from './pushes.js';
import { createReads } from './reads.js';
import { createStatsReads } from './stats.js';

export { MESSAGES } from './answers.js';
export {
  type ExpiryInput,
  type NewShiftInput,
  type OfferDeliveryStatus,
  type OfferOutcome,
  TEST_OFFER,
  TEST_SHIFT_ID,
} from './offering.js';

export interface OfferServiceDeps {
  store: Store;
  fanout: Fanout;
  clock: Clock;
  events: EventSink;
  /** Deadline for offers made without one (and cascade steps without a step TTL). */
  defaultTtlSeconds?: number | undefined;
  /** The same for urgent shifts; `defaultTtlSeconds` applies to them when absent. */
  urgentTtlSeconds?: number | undefined;
  /**
   * With several instances, one leads the timers (see `lead`); the others tell it of every
   * deadline they write through this. Without it, this instance leads.
   */
  deadlineWritten?: ((at: number) => void) | undefined;
  /**
   * Push fallback (`serve --push-webhook`): told of every offer pushed that reached no device.
   * Without it, nothing more is done for them (nor is anything spent on it).
   */
  pushFallback?:
    | {
        schedule(shiftId: number, empIds: readonly number[]): Promise<void>;
        tokenRegistered(empId: number, token: string): Promise<void>;
      }
    | undefined;
  /** Told of every journal line recorded (the dashboard's stream); keep it cheap. */
  journalRecorded?: ((entry: JournalInput) => void) | undefined;
}

export type OfferService = ReturnType<typeof createOfferService>;

export function createOfferService(deps: OfferServiceDeps) {
  const { store, clock, events } = deps;
  const pushes = createPushes(deps);
  const deadlines = createDeadlines(deps, pushes);
  const reads = createReads(deps);
  const { notify } = pushes;

  return {
    ...deadlines.api,
    ...createOffering(deps, pushes, deadlines, reads),
    ...createAnswers(deps, pushes, deadlines, reads),
    ...reads,
    ...createDevices(deps),
    ...createStatsReads(deps),

    /** Clears every shift, offer and journal line (for test suites). */
    async reset(): Promise<void> {
      deadlines.clear();
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
