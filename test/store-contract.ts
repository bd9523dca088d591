/**
 * What every store must do, through the `Store` interface only: run by
 * test/store-contract.test.ts against SQLite always and PostgreSQL when it is given.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  JournalEntry,
  JournalFilter,
  JournalInput,
  OfferWrite,
  Store,
} from '../src/store/types.js';
import { describeStatsContract } from './store-contract-stats.js';

const SHIFT = { date: '2026-01-20', start_time: '09:00', end_time: '17:00' };

/** The offers written, failing the test when the store wrote none. */
function offersOf(write: OfferWrite) {
  if (!write.offered) throw new Error(`nothing offered: the shift is ${write.status}`);
  return write.offers;
}

/** Registers the store contract; `makeStore` gives a fresh, empty store for each test. */
/**
 * Follows the journal after a line until it has `count` lines past it. PostgreSQL holds back
 * the lines of a follower's read while any older transaction in the database is open (another
 * test file's, in a full run), so the lines may take a moment; SQLite has them at once.
 */
async function following(
  store: Store,
  filter: JournalFilter,
  count: number,
): Promise<JournalEntry[]> {
  const until = Date.now() + 20_000;
  for (;;) {
    const lines = await store.readJournal(filter);
    if (lines.length >= count || Date.now() > until) return lines;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function describeStoreContract(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });
    describe('shifts and offers', () => {
      it('build what they wrote without reading it back, exactly as a read returns it', async () => {
        const created = await store.createShift(
          { ...SHIFT, id: 5, slots: 2, approval: true, location_name: 'Ward 3' },
          3000,
        );
        expect(created).toEqual(await store.getShift(5));
        const ensured = await store.ensureShift({ ...SHIFT, id: 5, description: 'ignored' }, 4000);
        expect(ensured).toEqual({ shift: created, created: false });
        const auto = await store.createShift(SHIFT, 3000);
        expect(auto).toEqual(await store.getShift(auto.id));
        const [open] = offersOf(await store.addOffers(5, [7], 3100, { expiresAt: 9000 }));
        expect(open).toEqual(await store.getOffer(5, 7));
        const many = offersOf(await store.addOffers(5, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3200, {}));
        expect(many).toEqual(await Promise.all(many.map((o) => store.getOffer(5, o.empId))));
        // Employee 7 keeps the offer made first.
        expect(many.find((o) => o.empId === 7)?.expiresAt).toBe(9000);
        const cascade = await store.createShift({ ...SHIFT, id: 60, mode: 'cascade' }, 3000);
        const queued = offersOf(await store.addOffers(cascade.id, [3, 4], 3300, { queued: true }));
        expect(queued.map((o) => o.position)).toEqual([1, 2]);
        expect(queued).toEqual(await store.offersForShift(cascade.id));
        const more = offersOf(
          await store.addOffers(cascade.id, [4, 5, 5, 6], 3400, { queued: true }),
        );
        expect(more.map((o) => [o.empId, o.position])).toEqual([
          [4, 2],
          [5, 3],
          [5, 3],
          [6, 4],
        ]);
      });

      it('refuses a second shift with the same id, and tells ensureShift it existed', async () => {
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        await expect(store.createShift({ ...SHIFT, id: 1 }, 2000)).rejects.toMatchObject({
          code: 'E_SHIFT_EXISTS',
        });
        const ensured = await store.ensureShift({ ...SHIFT, id: 1, description: 'ignored' }, 2000, {
          empIds: [4],
          expiresAt: null,
        });
        expect(ensured.created).toBe(false);
        expect(ensured.shift).toEqual(await store.getShift(1));
        expect(ensured.shift.description).toBeNull();
        // An existing open shift is offered all the same.
        expect(ensured.offers).toEqual(await store.offersForShift(1));
        expect(ensured.offers?.map((o) => [o.empId, o.outcome, o.sentAt])).toEqual([
          [4, 'open', 2000],
        ]);
        const fresh = await store.ensureShift({ ...SHIFT, id: 2 }, 2000, {
          empIds: [4, 5],
          expiresAt: 9000,
        });
        expect(fresh.created).toBe(true);
        expect(fresh.offers).toEqual(await store.offersForShift(2));
        expect(fresh.offers?.map((o) => [o.empId, o.outcome, o.sentAt, o.expiresAt])).toEqual([
          [4, 'open', 2000, 9000],
          [5, 'open', 2000, 9000],
        ]);
      });

      it('gives shifts created without an id distinct ids that JSON keeps exact', async () => {
        await store.createShift({ ...SHIFT, id: 2 }, 1000);
        await store.createShift({ ...SHIFT, id: 3 }, 1000);
        const first = await Promise.all([1, 2, 3, 4].map(() => store.createShift(SHIFT, 2000)));
        await store.createShift({ ...SHIFT, id: Number.MAX_SAFE_INTEGER }, 1000);
        const later = await Promise.all([1, 2, 3].map(() => store.createShift(SHIFT, 3000)));
        const ids = [...first, ...later].map((s) => s.id);
        expect(new Set([...ids, 2, 3, Number.MAX_SAFE_INTEGER]).size).toBe(ids.length + 3);
        for (const id of ids) {
          expect(Number.isSafeInteger(id) && id > 0).toBe(true);
          expect(await store.getShift(id)).toMatchObject({ id });
        }
        const max = await store.getShift(Number.MAX_SAFE_INTEGER);
        expect(max?.id).toBe(Number.MAX_SAFE_INTEGER);
        await store.addOffers(Number.MAX_SAFE_INTEGER, [Number.MAX_SAFE_INTEGER], 1000, {});
        expect(await store.claim(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1100)).toEqual({
          recorded: true,
          outcome: 'assigned',
          shiftFilled: true,
          closed: [],
        });
      });

      it('changes details, leaving the rest of the shift as it was', async () => {
        await store.createShift({ ...SHIFT, id: 8, slots: 3 }, 1000);
        const changed = await store.updateShiftDetails(8, {
          location_name: 'Annex',
          description: undefined,
        });
        expect(changed).toMatchObject({ id: 8, location_name: 'Annex', slots: 3, status: 'open' });
        expect(await store.getShift(8)).toEqual(changed);
        expect(await store.updateShiftDetails(404, { location_name: 'X' })).toBeUndefined();
      });

      it('refuses a write that fails alone, leaving nothing of it, while the others commit', async () => {
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        const results = await Promise.allSettled([
          store.createShift({ ...SHIFT, id: 2 }, 2000),
          store.createShift({ ...SHIFT, id: 1 }, 2000),
          store.upsertEmployees([{ id: 901, name: 'Half' }, { id: 1.5 }]),
          store.addOffers(1, [7, 8], 2000, {}),
          store.upsertEmployees([{ id: 902, name: 'Whole' }]),
        ]);
        expect(results.map((r) => r.status)).toEqual([
          'fulfilled',
          'rejected',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        expect((await store.getShift(2))?.createdAt).toBe(2000);
        expect((await store.getShift(1))?.createdAt).toBe(1000);
        expect((await store.employees()).map((e) => [e.empId, e.name])).toEqual([
          [7, null],
          [8, null],
          [902, 'Whole'],
        ]);
      });

      it('offers only an open shift, writing nothing for another and saying why', async () => {
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        await store.addOffers(1, [7, 8], 1100, {});
        await store.claim(1, 7, 1200);
        await store.createShift({ ...SHIFT, id: 2, mode: 'cascade' }, 1000);
        await store.withdraw(2, 1300);
        const many = Array.from({ length: 20 }, (_, i) => 100 + i);
        const assigned = { offered: false, status: 'assigned' };

        expect(await store.addOffers(1, [9], 1400, {})).toEqual(assigned);
        expect(await store.addOffers(1, many, 1400, {})).toEqual(assigned);
        // Even to someone who holds an offer of it already, and to nobody at all.
        expect(await store.addOffers(1, [8], 1400, {})).toEqual(assigned);
        expect(await store.addOffers(1, [], 1400, {})).toEqual(assigned);
        expect(await store.addOffers(2, [9], 1400, { queued: true })).toEqual({
          offered: false,
          status: 'withdrawn',
        });
        expect(await store.addOffers(3, [9], 1400, {})).toEqual({
          offered: false,
          status: undefined,
        });
        expect((await store.offersForShift(1)).map((o) => [o.empId, o.outcome])).toEqual([
          [7, 'assigned'],
          [8, 'taken'],
        ]);
        expect(await store.offersForShift(2)).toEqual([]);
        // An open shift offered to nobody new is offered: each keeps the offer it holds.
        await store.createShift({ ...SHIFT, id: 4 }, 1000);
        expect(await store.addOffers(4, [], 1400, {})).toEqual({ offered: true, offers: [] });
      });

      it('ensures an existing shift with new details and offers it in the same write, only while it is open', async () => {
        await store.createShift({ ...SHIFT, id: 5, slots: 2 }, 1000);
        const offer = { empIds: [7], expiresAt: 9000 };

        const open = await store.ensureShift({ ...SHIFT, id: 5 }, 2000, offer, {
          description: 'new',
          location_name: 'Annex',
        });

        expect(open.created).toBe(false);
        expect(open.shift).toEqual(await store.getShift(5));
        expect(open.shift).toMatchObject({ description: 'new', location_name: 'Annex', slots: 2 });
        expect(open.offers).toEqual([await store.getOffer(5, 7)]);
        expect(open.offers?.[0]).toMatchObject({ outcome: 'open', sentAt: 2000, expiresAt: 9000 });
        await store.withdraw(5, 3000);
        const closed = await store.ensureShift(
          { ...SHIFT, id: 5 },
          4000,
          { empIds: [8], expiresAt: null },
          { description: 'later' },
        );
        expect(closed).toEqual({ shift: await store.getShift(5), created: false });
        expect(closed.offers).toBeUndefined();
        expect(closed.shift).toMatchObject({ status: 'withdrawn', description: 'new' });
        expect(await store.getOffer(5, 8)).toBeUndefined();
        // A new shift takes the details it is created with, not the update.
        const created = await store.ensureShift(
          { ...SHIFT, id: 6, description: 'made' },
          5000,
          undefined,
          {
            description: 'update',
          },
        );
        expect(created).toEqual({ shift: await store.getShift(6), created: true });
        expect(created.shift.description).toBe('made');
      });

      it('queues the offers of a cascade that ensureShift makes, behind its steps', async () => {
        const cascade = { ...SHIFT, id: 40, mode: 'cascade' as const };
        const made = await store.ensureShift(cascade, 1000, { empIds: [3, 4], expiresAt: 9000 });
        expect(made.created).toBe(true);
        expect(made.offers).toEqual(await store.offersForShift(40));
        expect(made.offers?.map((o) => [o.empId, o.position, o.outcome, o.expiresAt])).toEqual([
          [3, 1, 'queued', null],
          [4, 2, 'queued', null],
        ]);
        const again = await store.ensureShift(cascade, 1100, { empIds: [4, 5], expiresAt: null });
        expect(again.offers?.map((o) => [o.empId, o.position])).toEqual([
          [4, 2],
          [5, 3],
        ]);
      });
    });

    describe('answers', () => {
      it('close the other offers when a claim fills the shift, and name those who had been sent one', async () => {
        // Two slots; employee 2 has rejected; 5 has no offer yet.
        await store.createShift({ ...SHIFT, id: 70, slots: 2 }, 1000);
        await store.addOffers(70, [1, 2, 3, 4], 1100, {});
        expect(await store.reject(70, 2, 1200)).toBe('rejected');
        const first = await store.claim(70, 3, 1300);
        expect(first).toEqual({
          recorded: true,
          outcome: 'assigned',
          shiftFilled: false,
          closed: [],
        });
        const last = await store.claim(70, 1, 1300);
        expect(last).toEqual({
          recorded: true,
          outcome: 'assigned',
          shiftFilled: true,
          closed: [4],
        });
        const offers = await store.offersForShift(70);
        expect(offers.map((o) => [o.empId, o.response, o.outcome, o.answeredAt])).toEqual([
          [1, 'accepted', 'assigned', 1300],
          [2, 'rejected', 'rejected', 1200],
          [3, 'accepted', 'assigned', 1300],
          [4, null, 'taken', null],
        ]);
        expect(await store.getShift(70)).toMatchObject({
          status: 'assigned',
          filled: 2,
          closedAt: 1300,
        });
        // A cascade's queued steps close too, but nobody was sent them: nobody to tell.
        await store.createShift({ ...SHIFT, id: 71, mode: 'cascade' }, 2000);
        await store.addOffers(71, [6], 2100, {});
        await store.addOffers(71, [7, 8], 2100, { queued: true });
        expect(await store.claim(71, 6, 2200)).toMatchObject({ outcome: 'assigned', closed: [] });
        expect((await store.offersForShift(71)).map((o) => o.outcome)).toEqual([
          'assigned',
          'taken',
          'taken',
        ]);
        // A late accepter keeps its answer and learns it lost; the winner's record is untouched.
        expect(await store.claim(70, 4, 1400)).toEqual({
          recorded: true,
          outcome: 'taken',
          shiftFilled: true,
          closed: [],
        });
        expect(await store.getOffer(70, 4)).toMatchObject({
          response: 'accepted',
          answeredAt: 1400,
        });
        expect((await store.getOffer(70, 1))?.answeredAt).toBe(1300);
        // A late rejection of a lost offer is recorded too, and says it was taken.
        await store.createShift({ ...SHIFT, id: 72 }, 3000);
        await store.addOffers(72, [1, 2], 3000, {});
        await store.claim(72, 1, 3100);
        expect(await store.reject(72, 2, 3200)).toBe('taken');
        expect(await store.getOffer(72, 2)).toMatchObject({
          response: 'rejected',
          outcome: 'taken',
        });
      });

      it('record an answer once: a retry, an answer to an unsent offer and a change are refused', async () => {
        await store.createShift({ ...SHIFT, id: 1, mode: 'cascade' }, 1000);
        await store.addOffers(1, [1], 1000, {});
        await store.addOffers(1, [2], 1000, { queued: true });
        expect(await store.reject(1, 1, 1100)).toBe('rejected');
        expect(await store.reject(1, 1, 1200)).toBeUndefined();
        expect(await store.claim(1, 1, 1200)).toEqual({ recorded: false });
        expect(await store.claim(1, 2, 1200)).toEqual({ recorded: false }); // queued
        expect(await store.reject(1, 2, 1200)).toBeUndefined();
        expect(await store.claim(1, 3, 1200)).toEqual({ recorded: false }); // never offered
        expect(await store.claim(404, 3, 1200)).toEqual({ recorded: false });
        expect(await store.getOffer(1, 1)).toMatchObject({
          response: 'rejected',
          outcome: 'rejected',
          answeredAt: 1100,
        });
        expect(await store.getOffer(1, 3)).toBeUndefined();
      });

      it('turn acceptances of a shift that needs approval into requests, and approve one', async () => {
        await store.createShift({ ...SHIFT, id: 50, approval: true, slots: 2 }, 1000);
        await store.addOffers(50, [1, 2, 3, 4], 1000, {});
        expect(await store.claim(50, 1, 1100)).toEqual({
          recorded: true,
          outcome: 'requested',
          shiftFilled: false,
          closed: [],
        });
        await store.claim(50, 2, 1100);
        await store.claim(50, 3, 1100);
        expect(await store.getOffer(50, 1)).toMatchObject({
          response: 'accepted',
          outcome: 'requested',
        });
        expect(await store.approve(50, 4, 1200)).toBeUndefined(); // not requested
        expect(await store.approve(50, 1, 1200)).toEqual({
          recorded: true,
          outcome: 'assigned',
          shiftFilled: false,
          closed: [],
        });
        expect(await store.approve(50, 1, 1200)).toBeUndefined(); // already assigned
        expect(await store.approve(50, 2, 1300)).toEqual({
          recorded: true,
          outcome: 'assigned',
          shiftFilled: true,
          closed: [3, 4],
        });
        expect((await store.offersForShift(50)).map((o) => [o.empId, o.outcome])).toEqual([
          [1, 'assigned'],
          [2, 'assigned'],
          [3, 'taken'],
          [4, 'taken'],
        ]);
        expect(await store.approve(50, 3, 1400)).toBeUndefined();
        // A requester approved once the slots are gone loses.
        await store.createShift({ ...SHIFT, id: 51, approval: true }, 1000);
        await store.addOffers(51, [1, 2], 1000, {});
        await store.claim(51, 1, 1100);
        await store.claim(51, 2, 1100);
        await store.approve(51, 1, 1200);
        expect(await store.getOffer(51, 2)).toMatchObject({
          outcome: 'taken',
          response: 'accepted',
        });
        expect(await store.approve(51, 2, 1300)).toBeUndefined();
      });
    });

    describe('deadlines', () => {
      it('close offers at their deadline, refusing answers from then on', async () => {
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        await store.createShift({ ...SHIFT, id: 2 }, 1000);
        await store.addOffers(1, [1, 2], 1000, { expiresAt: 5000 });
        await store.addOffers(2, [1], 1000, { expiresAt: 7000 });
        await store.addOffers(2, [3], 1000, {});
        expect(await store.nextDeadline()).toBe(5000);
        expect(await store.expireDue(4999)).toEqual([]);
        expect(await store.claim(1, 1, 4999)).toMatchObject({
          recorded: true,
          outcome: 'assigned',
        });
        // Past its deadline an offer cannot be answered, even before it is closed.
        expect(await store.claim(2, 1, 7000)).toEqual({ recorded: false });
        expect(await store.reject(2, 1, 7000)).toBeUndefined();
        expect(await store.expireDue(7000)).toEqual([{ shiftId: 2, empIds: [1] }]);
        expect(await store.getOffer(2, 1)).toMatchObject({ outcome: 'expired', response: null });
        expect(await store.nextDeadline()).toBeUndefined();
        // The lost offer of shift 1 was closed as taken, not expired.
        expect(await store.expireDue(8000)).toEqual([]);
        expect((await store.getOffer(1, 2))?.outcome).toBe('taken');
      });

      it('group what closes at once by shift', async () => {
        for (const id of [1, 2]) {
          await store.createShift({ ...SHIFT, id }, 1000);
          await store.addOffers(id, [1, 2], 1000, { expiresAt: 2000 + id });
        }
        const closed = await store.expireDue(9000);
        expect(closed.map((c) => ({ ...c, empIds: [...c.empIds].sort() }))).toEqual([
          { shiftId: 1, empIds: [1, 2] },
          { shiftId: 2, empIds: [1, 2] },
        ]);
      });
    });

    describe('cascades', () => {
      it('open one step at a time, with its deadline, then mark the shift unfilled', async () => {
        await store.createShift({ ...SHIFT, id: 30, mode: 'cascade', stepTtlS: 300 }, 1000);
        await store.addOffers(30, [1, 2, 3], 1000, { queued: true });
        const step1 = await store.advanceCascade(30, 1000);
        expect(step1).toEqual({
          shiftId: 30,
          empId: 1,
          position: 1,
          sentAt: 1000,
          expiresAt: 301_000,
          deliveredAt: null,
          answeredAt: null,
          response: null,
          outcome: 'open',
        });
        expect(step1).toEqual(await store.getOffer(30, 1));
        // Someone holds it: nothing moves.
        expect(await store.advanceCascade(30, 1100)).toBeUndefined();
        expect((await store.getOffer(30, 2))?.outcome).toBe('queued');
        await store.reject(30, 1, 1200);
        expect(await store.advanceCascade(30, 1300)).toMatchObject({ empId: 2, position: 2 });
        await store.expireDue(301_300);
        expect(await store.advanceCascade(30, 301_300)).toMatchObject({ empId: 3 });
        await store.reject(30, 3, 301_400);
        expect(await store.advanceCascade(30, 301_500)).toBeUndefined();
        expect(await store.getShift(30)).toMatchObject({ status: 'unfilled', closedAt: 301_500 });
        expect(await store.advanceCascade(30, 301_600)).toBeUndefined();
      });

      it('use the fallback deadline for a step without one, and leave broadcasts alone', async () => {
        await store.createShift({ ...SHIFT, id: 31, mode: 'cascade' }, 1000);
        await store.addOffers(31, [4], 1000, { queued: true });
        expect((await store.advanceCascade(31, 2000, 60))?.expiresAt).toBe(62_000);
        await store.createShift({ ...SHIFT, id: 32, mode: 'cascade' }, 1000);
        await store.addOffers(32, [4], 1000, { queued: true });
        expect((await store.advanceCascade(32, 2000))?.expiresAt).toBeNull();
        await store.createShift({ ...SHIFT, id: 33 }, 1000);
        expect(await store.advanceCascade(33, 2000)).toBeUndefined();
        expect((await store.getShift(33))?.status).toBe('open');
      });

      it('move on after an approval that leaves a slot', async () => {
        await store.createShift(
          { ...SHIFT, id: 34, mode: 'cascade', approval: true, slots: 2 },
          1000,
        );
        await store.addOffers(34, [1, 2], 1000, { queued: true });
        await store.advanceCascade(34, 1000);
        await store.claim(34, 1, 1100);
        expect(await store.advanceCascade(34, 1150)).toBeUndefined(); // requested: still held
        await store.approve(34, 1, 1200);
        expect(await store.advanceCascade(34, 1300)).toMatchObject({ empId: 2, outcome: 'open' });
      });
    });

    describe('withdrawal', () => {
      it('closes every open, requested and queued offer, and names those who were sent one', async () => {
        await store.createShift({ ...SHIFT, id: 20, mode: 'cascade', approval: true }, 1000);
        await store.addOffers(20, [1, 2], 1000, {});
        await store.addOffers(20, [3], 1000, { queued: true });
        await store.claim(20, 2, 1100);
        expect(await store.withdraw(20, 1200)).toEqual([1, 2]);
        expect((await store.offersForShift(20)).map((o) => [o.empId, o.outcome])).toEqual([
          [1, 'withdrawn'],
          [2, 'withdrawn'],
          [3, 'withdrawn'],
        ]);
        expect(await store.getShift(20)).toMatchObject({ status: 'withdrawn', closedAt: 1200 });
        expect(await store.withdraw(20, 1300)).toBeUndefined();
        expect(await store.claim(20, 1, 1300)).toEqual({ recorded: false });
        expect(await store.withdraw(404, 1300)).toBeUndefined();
        await store.createShift({ ...SHIFT, id: 21 }, 1000);
        await store.addOffers(21, [1], 1000, {});
        await store.claim(21, 1, 1100);
        expect(await store.withdraw(21, 1200)).toBeUndefined(); // assigned
      });

      it('of a partly filled shift cancels its assignments, and tells those it was assigned to', async () => {
        await store.createShift({ ...SHIFT, id: 22, slots: 3 }, 1000);
        await store.addOffers(22, [1, 2, 3, 4], 1000, {});
        await store.claim(22, 2, 1100);
        await store.reject(22, 4, 1100);

        expect((await store.withdraw(22, 1200))?.sort()).toEqual([1, 2, 3]);

        expect(
          (await store.offersForShift(22)).map((o) => [o.empId, o.response, o.outcome]),
        ).toEqual([
          [1, null, 'withdrawn'],
          [2, 'accepted', 'withdrawn'],
          [3, null, 'withdrawn'],
          [4, 'rejected', 'rejected'],
        ]);
        expect(await store.getShift(22)).toMatchObject({
          status: 'withdrawn',
          filled: 0,
          closedAt: 1200,
        });
        const [summary] = await store.listShifts({ id: 22 });
        expect(summary?.assignedTo).toEqual([]);
        expect((await store.employees()).find((e) => e.empId === 2)?.assigned).toEqual([]);
      });
    });

    describe('views', () => {
      it('list pending offers oldest first, and history newest first without queued steps', async () => {
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        await store.createShift({ ...SHIFT, id: 2 }, 1000);
        await store.createShift({ ...SHIFT, id: 3, mode: 'cascade' }, 1000);
        await store.createShift({ ...SHIFT, id: 4 }, 1000);
        await store.addOffers(2, [9], 1000, {});
        await store.addOffers(1, [9], 2000, {});
        await store.addOffers(3, [9], 1000, { queued: true });
        await store.addOffers(4, [9, 8], 3000, {});
        await store.claim(4, 8, 3100); // 9's offer of shift 4 is taken
        const pending = await store.openOffersFor(9);
        expect(pending.map((p) => [p.shift.id, p.offer.sentAt])).toEqual([
          [2, 1000],
          [1, 2000],
        ]);
        expect(pending[0]?.shift).toEqual(await store.getShift(2));
        expect(pending[0]?.offer).toEqual(await store.getOffer(2, 9));
        const history = await store.history(9, 10);
        expect(history.map((h) => [h.shift.id, h.offer.outcome])).toEqual([
          [4, 'taken'],
          [1, 'open'],
          [2, 'open'],
        ]);
        expect((await store.history(9, 1)).map((h) => h.shift.id)).toEqual([4]);
        expect(await store.history(404, 10)).toEqual([]);
      });

      it('list pending offers of urgent shifts first, each group oldest first', async () => {
        // Ids and times chosen so that neither alone gives this order.
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        await store.createShift({ ...SHIFT, id: 2, priority: 'urgent' }, 1000);
        await store.createShift({ ...SHIFT, id: 3 }, 1000);
        await store.createShift({ ...SHIFT, id: 4, priority: 'urgent' }, 1000);
        const ensured = await store.ensureShift({ ...SHIFT, id: 5, priority: 'urgent' }, 1000, {
          empIds: [9],
          expiresAt: null,
        });
        expect(ensured.shift).toEqual(await store.getShift(5));
        await store.addOffers(3, [9], 1000, {});
        await store.addOffers(4, [9], 2000, {});
        await store.addOffers(1, [9], 3000, {});
        await store.addOffers(2, [9], 4000, {});
        const order = async () => (await store.openOffersFor(9)).map((p) => p.shift.id);
        expect(await order()).toEqual([5, 4, 2, 3, 1]);
        const [first] = await store.openOffersFor(9);
        expect(first?.shift).toMatchObject({ id: 5, priority: 'urgent' });
        expect((await store.getShift(3))?.priority).toBe('normal');
        // Made urgent later (an escalation), a shift moves up; made normal, it moves down.
        expect(await store.updateShiftDetails(1, { priority: 'urgent' })).toMatchObject({
          priority: 'urgent',
        });
        await store.updateShiftDetails(5, { priority: 'normal' });
        expect(await order()).toEqual([4, 1, 2, 3, 5]);
        const [listed] = await store.listShifts({ id: 4 });
        expect(listed?.shift.priority).toBe('urgent');
        expect((await store.history(9, 1))[0]?.shift.priority).toBe('urgent');
      });

      it('count pending offers and list employees with what they hold', async () => {
        await store.upsertEmployees([
          { id: 1, name: 'Ana' },
          { id: 2, name: 'Bo', role: 'RN' },
        ]);
        await store.upsertEmployees([{ id: 1, role: 'CNA' }]); // the name stays
        await store.createShift({ ...SHIFT, id: 10 }, 1000);
        await store.createShift({ ...SHIFT, id: 11 }, 1000);
        await store.addOffers(10, [1, 3], 1000, {});
        await store.addOffers(11, [1], 1000, {});
        await store.claim(11, 1, 1100);
        expect(await store.pendingCounts()).toEqual(
          new Map([
            [1, 1],
            [3, 1],
          ]),
        );
        expect(await store.employees()).toEqual([
          { empId: 1, name: 'Ana', pending: [10], assigned: [11] },
          { empId: 2, name: 'Bo', pending: [], assigned: [] },
          { empId: 3, name: null, pending: [10], assigned: [] },
        ]);
      });

      it('list shifts with their counts, by status or id, by date and time', async () => {
        await store.createShift({ ...SHIFT, id: 3, date: '2026-01-21', slots: 2 }, 1000);
        await store.createShift({ ...SHIFT, id: 4, start_time: '10:00' }, 1000);
        await store.createShift({ ...SHIFT, id: 5, mode: 'cascade' }, 1000);
        await store.addOffers(3, [1, 2, 3, 4], 1000, { expiresAt: 5000 });
        await store.addOffers(5, [1, 2], 1000, { queued: true });
        await store.claim(3, 2, 1100);
        await store.claim(3, 1, 1100);
        await store.addOffers(4, [1, 2], 1000, {});
        await store.reject(4, 1, 1200);
        const all = await store.listShifts({});
        expect(all.map((s) => s.shift.id)).toEqual([5, 4, 3]);
        expect(all[2]).toEqual({
          shift: await store.getShift(3),
          assignedTo: [1, 2],
          offers: {
            total: 4,
            queued: 0,
            open: 0,
            requested: 0,
            accepted: 2,
            rejected: 0,
            expired: 0,
          },
        });
        expect(all[1]?.offers).toEqual({
          total: 2,
          queued: 0,
          open: 1,
          requested: 0,
          accepted: 0,
          rejected: 1,
          expired: 0,
        });
        expect(all[0]?.offers).toMatchObject({ total: 2, queued: 2 });
        expect((await store.listShifts({ status: 'assigned' })).map((s) => s.shift.id)).toEqual([
          3,
        ]);
        expect((await store.listShifts({ id: 4 })).map((s) => s.shift.id)).toEqual([4]);
        expect(await store.listShifts({ id: 404 })).toEqual([]);
      });

      it('note deliveries, the first one only', async () => {
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        await store.addOffers(1, [1, 2, 3], 1000, {});
        store.markDelivered(1, [1, 2], 1500);
        store.markDelivered(1, [2, 3], 1600);
        store.markDelivered(1, [], 1700);
        // Reading the journal waits for the bookkeeping queued before it.
        await store.readJournal({ limit: 1 });
        expect((await store.offersForShift(1)).map((o) => o.deliveredAt)).toEqual([
          1500, 1500, 1600,
        ]);
      });
    });

    describeStatsContract(() => store);

    describe('journal', () => {
      const line = (n: number): JournalInput => ({
        at: 1000 + n,
        kind: 'request',
        empId: n,
        shiftId: null,
        name: `line ${n}`,
        outcome: '200',
        detail: n % 5 === 0 ? { n, text: 'a "quoted", {braced} line' } : null,
      });

      it('keeps every line of a busy tick once, in the order it happened', async () => {
        for (let n = 1; n <= 20; n++) store.journal(line(n));
        store.journal({ ...line(21), kind: 'push', empId: null, empIds: [7, 8, 9] });
        for (let n = 22; n <= 56; n++) {
          store.journal(n === 30 ? { ...line(n), empId: null, empIds: [30] } : line(n));
        }
        const read = await store.readJournal({ limit: 1000 });
        expect(read.map((e) => e.name)).toEqual([
          ...Array.from({ length: 20 }, (_, i) => `line ${i + 1}`),
          'line 21',
          'line 21',
          'line 21',
          ...Array.from({ length: 35 }, (_, i) => `line ${i + 22}`),
        ]);
        expect(read.slice(20, 23).map((e) => e.empId)).toEqual([7, 8, 9]);
        expect(read.find((e) => e.name === 'line 55')).toMatchObject({
          empId: 55,
          detail: { n: 55, text: 'a "quoted", {braced} line' },
        });
        expect(read.find((e) => e.name === 'line 30')).toMatchObject({
          empId: 30,
          detail: { n: 30 },
        });
        const ids = read.map((e) => e.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(read.length);
      });

      it('keeps any text as written: quotes, backslashes, braces, commas, "NULL", empty', async () => {
        const awkward = ['say "hi"', 'back\\slash', '{a,b}', 'NULL', '', ' padded ', 'é ✓'];
        for (const [i, text] of awkward.entries()) {
          store.journal({
            ...line(i + 1),
            name: text,
            outcome: text,
            detail: { text, list: [text] },
            ...(i === 0 ? { empId: null, empIds: [1, 2] } : {}),
          });
        }
        const read = await store.readJournal({ limit: 100 });
        expect(read.map((e) => [e.name, e.outcome, e.detail])).toEqual(
          [awkward[0], ...awkward].map((text) => [text, text, { text, list: [text] }]),
        );
        expect(read.map((e) => e.empId)).toEqual([1, 2, 2, 3, 4, 5, 6, 7]);
      });

      it('filters by employee, shift and kind, reads the newest, and follows after an id', async () => {
        store.journal({ ...line(1), shiftId: 7 });
        store.journal({ ...line(2), kind: 'push', shiftId: 7 });
        store.journal(line(3));
        store.journal({ ...line(4), empId: 1, kind: 'push' });
        const all = await store.readJournal({ limit: 100 });
        expect(all.map((e) => e.name)).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
        expect(all[0]).toEqual({
          id: all[0]?.id,
          at: 1001,
          kind: 'request',
          empId: 1,
          shiftId: 7,
          name: 'line 1',
          outcome: '200',
          detail: null,
        });
        const names = (entries: { name: string }[]) => entries.map((e) => e.name);
        expect(names(await store.readJournal({ empId: 1, limit: 100 }))).toEqual([
          'line 1',
          'line 4',
        ]);
        expect(names(await store.readJournal({ shiftId: 7, kind: 'push', limit: 100 }))).toEqual([
          'line 2',
        ]);
        expect(names(await store.readJournal({ limit: 2 }))).toEqual(['line 3', 'line 4']);
        const after = await following(store, { afterId: all[1]?.id, limit: 1 }, 1);
        expect(names(after)).toEqual(['line 3']);
        expect(
          names(await following(store, { afterId: all[1]?.id, kind: 'push', limit: 5 }, 1)),
        ).toEqual(['line 4']);
      });
    });

    describe('journal trimming', () => {
      const line = (n: number): JournalInput => ({
        at: 1000 + n,
        kind: 'request',
        empId: n,
        shiftId: null,
        name: `line ${n}`,
        outcome: '200',
        detail: null,
      });
      const names = async () => (await store.readJournal({ limit: 100 })).map((e) => e.name);

      it('deletes the oldest lines beyond the cap or age, a chunk at a time, and ids keep growing', async () => {
        expect(await store.trimJournal({ maxRows: 1 }, 100)).toBe(0); // nothing yet
        for (let n = 1; n <= 10; n++) store.journal(line(n));
        const [, , , , , , , , , newest] = await store.readJournal({ limit: 100 });

        expect(await store.trimJournal({ maxRows: 4 }, 3)).toBe(3);
        expect(await store.trimJournal({ maxRows: 4 }, 100)).toBe(3);
        expect(await store.trimJournal({ maxRows: 4 }, 100)).toBe(0);
        expect(await names()).toEqual(['line 7', 'line 8', 'line 9', 'line 10']);
        // Written before 1009: lines 7 and 8.
        expect(await store.trimJournal({ before: 1009 }, 100)).toBe(2);
        expect(await store.trimJournal({}, 100)).toBe(0);
        // Everything is old, but the newest line stays: ids continue from it.
        expect(await store.trimJournal({ before: 99_999 }, 100)).toBe(1);
        expect(await store.trimJournal({ maxRows: 0 }, 100)).toBe(0);
        expect(await names()).toEqual(['line 10']);
        store.journal(line(11));
        const after = await following(store, { afterId: newest?.id, limit: 10 }, 1);
        expect(after.map((e) => e.name)).toEqual(['line 11']);
        expect(after[0]?.id).toBeGreaterThan(newest?.id ?? Number.POSITIVE_INFINITY);
      });
    });

    describe('readiness', () => {
      it('takes writes, and the probe writes nothing', async () => {
        await expect(store.checkWritable()).resolves.toBeUndefined();
        expect(await store.readJournal({ limit: 10 })).toEqual([]);
        expect(await store.isEmpty()).toBe(true);
      });
    });

    describe('reset', () => {
      it('clears everything, and journal ids keep growing past a marker', async () => {
        await store.upsertEmployees([{ id: 1, name: 'Ana' }]);
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        await store.addOffers(1, [1], 1000, {});
        store.journal({
          at: 1000,
          kind: 'request',
          empId: 1,
          shiftId: 1,
          name: 'before',
          outcome: '200',
          detail: null,
        });
        const [before] = await store.readJournal({ limit: 1 });
        store.journal({ ...(before as JournalInput), name: 'queued before the reset' });
        await store.reset(2000);
        expect(await store.isEmpty()).toBe(true);
        expect(await store.listShifts({})).toEqual([]);
        expect(await store.employees()).toEqual([]);
        expect(await store.openOffersFor(1)).toEqual([]);
        expect(await store.nextDeadline()).toBeUndefined();
        store.journal({ ...(before as JournalInput), name: 'after' });
        const after = await following(store, { afterId: before?.id, limit: 10 }, 2);
        expect(after.map((e) => [e.name, e.outcome, e.at])).toEqual([
          ['reset: journal cleared', 'cleared', 2000],
          ['after', '200', 1000],
        ]);
        expect(after[0]?.id).toBeGreaterThan(before?.id ?? Number.POSITIVE_INFINITY);
        // The store takes shifts again, the same ids included.
        await store.createShift({ ...SHIFT, id: 1 }, 3000);
        expect(await store.isEmpty()).toBe(false);
      });
    });

    describe('push tokens', () => {
      const A = 'token-aaaaaaaa';
      const B = 'token-bbbbbbbb';

      it('are registered once per token, refreshed, moved between employees and deleted', async () => {
        const first = await store.registerDevice(
          { empId: 1, token: A, platform: 'android' },
          1000,
          10,
        );
        expect(first).toEqual({
          created: true,
          device: { empId: 1, token: A, platform: 'android', registeredAt: 1000, seenAt: 1000 },
        });
        // Again: nothing new, only refreshed (the platform too).
        const again = await store.registerDevice({ empId: 1, token: A, platform: 'ios' }, 2000, 10);
        expect(again).toEqual({
          created: false,
          device: { empId: 1, token: A, platform: 'ios', registeredAt: 1000, seenAt: 2000 },
        });
        await store.registerDevice({ empId: 1, token: B, platform: 'android' }, 3000, 10);
        expect((await store.listDevices(1)).map((d) => d.token)).toEqual([B, A]);
        // The phone changes hands: the token is the new employee's alone.
        const moved = await store.registerDevice({ empId: 2, token: A, platform: 'ios' }, 4000, 10);
        expect(moved.created).toBe(true);
        expect(moved.device).toMatchObject({ empId: 2, registeredAt: 4000 });
        expect((await store.listDevices(1)).map((d) => d.token)).toEqual([B]);
        expect(await store.deleteDevice(1, A)).toBe(false);
        expect(await store.deleteDevice(2, A)).toBe(true);
        expect(await store.deleteDevice(2, A)).toBe(false);
        expect(await store.listDevices(2)).toEqual([]);
      });

      it('keep at most the cap per employee, dropping the least recently registered', async () => {
        for (let i = 0; i < 5; i++) {
          await store.registerDevice(
            { empId: 1, token: `token-${i}-xxxx`, platform: 'ios' },
            1000 + i,
            3,
          );
        }
        expect((await store.listDevices(1)).map((d) => d.token)).toEqual([
          'token-4-xxxx',
          'token-3-xxxx',
          'token-2-xxxx',
        ]);
        // Many at once for one employee: the cap still holds.
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.registerDevice(
              { empId: 7, token: `race-${i}-xxxx`, platform: 'android' },
              5000,
              3,
            ),
          ),
        );
        expect(await store.listDevices(7)).toHaveLength(3);
      });
    });

    describe('webhook pushes', () => {
      const T1 = 'token-one-1111';
      const T2 = 'token-two-2222';
      async function offered(expiresAt: number | null = null) {
        await store.createShift({ ...SHIFT, id: 9, location_name: 'Ward 3' }, 1000);
        await store.addOffers(9, [1, 2], 1000, { expiresAt });
        await store.registerDevice({ empId: 1, token: T1, platform: 'android' }, 900, 10);
        await store.registerDevice({ empId: 1, token: T2, platform: 'ios' }, 901, 10);
      }

      it('are scheduled per token, claimed when due, and finished once', async () => {
        await offered(60_000);
        // Employee 2 has no token: nothing to schedule for them.
        expect(await store.schedulePushes(9, [1, 2], 5000)).toBe(2);
        expect(await store.schedulePushes(9, [1], 5000)).toBe(0);
        expect(await store.nextPushDue()).toBe(5000);
        expect(await store.claimPushes(4999, 9999, 'c1', 10)).toEqual({
          claimed: [],
          cancelled: [],
        });
        const { claimed, cancelled } = await store.claimPushes(5000, 20_000, 'c1', 10);
        expect(cancelled).toEqual([]);
        expect(claimed.map((p) => [p.token, p.platform, p.attempt, p.expiresAt])).toEqual([
          [T1, 'android', 1, 60_000],
          [T2, 'ios', 1, 60_000],
        ]);
        expect(claimed[0]?.shift).toEqual(await store.getShift(9));
        // Claimed: due again only when the claim lapses.
        expect(await store.nextPushDue()).toBe(20_000);
        const [one, two] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
        expect(await store.finishPush(one, 'someone else', { state: 'sent' }, 6000)).toBe(false);
        expect(await store.finishPush(one, 'c1', { state: 'sent' }, 6000)).toBe(true);
        expect(await store.finishPush(one, 'c1', { state: 'sent' }, 6000)).toBe(false);
        expect(await store.finishPush(two, 'c1', { state: 'due', dueAt: 8000 }, 6000)).toBe(true);
        expect(await store.nextPushDue()).toBe(8000);
        const retry = await store.claimPushes(8000, 30_000, 'c2', 10);
        expect(retry.claimed.map((p) => [p.token, p.attempt])).toEqual([[T2, 2]]);
        expect(await store.finishPush(two, 'c2', { state: 'failed' }, 8100)).toBe(true);
        expect(await store.nextPushDue()).toBeUndefined();
        // Done for good: scheduling the offer again pushes nothing.
        expect(await store.schedulePushes(9, [1], 9000)).toBe(0);
      });

      it('are scheduled for a token registered after the offers that wait for it', async () => {
        await store.createShift({ ...SHIFT, id: 9 }, 1000);
        await store.addOffers(9, [1, 2], 1000, { expiresAt: 60_000 });
        await store.createShift({ ...SHIFT, id: 10 }, 1000);
        await store.addOffers(10, [1], 1000, {});
        store.markDelivered(10, [1], 1100);
        await store.createShift({ ...SHIFT, id: 11 }, 1000);
        await store.addOffers(11, [1], 1000, {});
        await store.reject(11, 1, 1200);
        await store.createShift({ ...SHIFT, id: 12 }, 1000);
        await store.addOffers(12, [1], 1000, { expiresAt: 1500 });
        await store.registerDevice({ empId: 1, token: T1, platform: 'android' }, 2000, 10);
        // Only a token of theirs.
        expect(await store.schedulePushesForToken(2, T1, 10_000, 2000)).toBe(0);
        expect(await store.schedulePushesForToken(1, 'not-registered', 10_000, 2000)).toBe(0);
        // Shift 9 alone still waits (10 was delivered, 11 answered, 12 past its deadline), due
        // as if the token had been there when it was sent.
        expect(await store.schedulePushesForToken(1, T1, 10_000, 2000)).toBe(1);
        expect(await store.schedulePushesForToken(1, T1, 10_000, 2000)).toBe(0);
        expect(await store.nextPushDue()).toBe(11_000);
        // Registered long after: due at once.
        await store.registerDevice({ empId: 1, token: T2, platform: 'ios' }, 30_000, 10);
        expect(await store.schedulePushesForToken(1, T2, 10_000, 30_000)).toBe(1);
        expect(await store.nextPushDue()).toBe(11_000);
        const { claimed } = await store.claimPushes(30_000, 40_000, 'c', 10);
        expect(claimed.map((p) => [p.shiftId, p.token])).toEqual([
          [9, T1],
          [9, T2],
        ]);
      });

      it('are claimed again once a claim lapses (its claimer died)', async () => {
        await offered();
        await store.schedulePushes(9, [1], 5000);
        await store.claimPushes(5000, 15_000, 'dead', 1);
        const later = await store.claimPushes(15_000, 25_000, 'alive', 10);
        expect(later.claimed.map((p) => [p.token, p.attempt]).sort()).toEqual([
          [T1, 2],
          [T2, 1],
        ]);
        expect(
          await store.finishPush(later.claimed[0] as never, 'dead', { state: 'sent' }, 1),
        ).toBe(false);
      });

      it('are cancelled when the offer no longer waits or the token went', async () => {
        await offered(60_000);
        await store.createShift({ ...SHIFT, id: 10 }, 1000);
        await store.addOffers(10, [1], 1000, {});
        await store.createShift({ ...SHIFT, id: 11 }, 1000);
        await store.addOffers(11, [1], 1000, { expiresAt: 4000 });
        await store.createShift({ ...SHIFT, id: 12 }, 1000);
        await store.addOffers(12, [1], 1000, {});
        for (const shiftId of [9, 10, 11, 12]) await store.schedulePushes(shiftId, [1], 5000);
        await store.reject(9, 1, 2000);
        store.markDelivered(10, [1], 2000);
        await store.withdraw(12, 2000);
        await store.deleteDevice(1, T2);
        // The delivery mark is written with the next write.
        await store.checkWritable();
        const { claimed, cancelled } = await store.claimPushes(5000, 9000, 'c', 100);
        expect(claimed).toEqual([]);
        expect(cancelled.map((p) => [p.shiftId, p.token, p.reason]).sort()).toEqual(
          [
            [9, T1, 'answered'],
            [9, T2, 'answered'],
            [10, T1, 'delivered'],
            [10, T2, 'delivered'],
            [11, T1, 'expired'],
            [11, T2, 'expired'],
            [12, T1, 'withdrawn'],
            [12, T2, 'withdrawn'],
          ].sort(),
        );
        expect(await store.nextPushDue()).toBeUndefined();
      });

      it("go to the token's employee only while the token is theirs", async () => {
        await offered();
        await store.schedulePushes(9, [1], 5000);
        await store.registerDevice({ empId: 3, token: T1, platform: 'android' }, 2000, 10);
        const { claimed, cancelled } = await store.claimPushes(5000, 9000, 'c', 100);
        expect(claimed.map((p) => p.token)).toEqual([T2]);
        expect(cancelled.map((p) => [p.token, p.reason])).toEqual([[T1, 'unregistered']]);
      });

      it('are claimed by exactly one of many claimers at once', async () => {
        await store.createShift({ ...SHIFT, id: 20 }, 1000);
        const employees = Array.from({ length: 30 }, (_, i) => 1 + i);
        await store.addOffers(20, employees, 1000, {});
        for (const e of employees) {
          await store.registerDevice(
            { empId: e, token: `tok-${e}-xxxxxx`, platform: 'android' },
            900,
            10,
          );
        }
        await store.schedulePushes(20, employees, 5000);
        const claims = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.claimPushes(5000, 9000, `claimer-${i}`, 7)),
        );
        const all = claims.flatMap((c) => c.claimed.map((p) => p.empId));
        // Five claims of up to seven take all 30; each push once.
        expect(all.sort((a, b) => a - b)).toEqual(employees);
        expect(claims.flatMap((c) => c.cancelled)).toEqual([]);
      });

      it('are cleared by a reset, with the tokens', async () => {
        await offered();
        await store.schedulePushes(9, [1], 5000);
        await store.reset(6000);
        expect(await store.nextPushDue()).toBeUndefined();
        expect(await store.listDevices(1)).toEqual([]);
      });
    });

    describe('concurrency', () => {
      it('gives a shift accepted by 200 employees at once to exactly its slots', async () => {
        const employees = Array.from({ length: 200 }, (_, i) => 1000 + i);
        await store.createShift({ ...SHIFT, id: 1, slots: 3 }, 1000);
        await store.addOffers(1, employees, 1000, {});
        const results = await Promise.all(employees.map((e) => store.claim(1, e, 2000)));
        const won = employees.filter((_, i) => {
          const r = results[i];
          return r?.recorded === true && r.outcome === 'assigned';
        });
        expect(won).toHaveLength(3);
        const lost = results.filter((r) => r.recorded && r.outcome === 'taken');
        expect(lost).toHaveLength(197);
        // Those the last winner closed, and the late accepters, are everyone else once.
        const closed = results.flatMap((r) => (r.recorded ? r.closed : []));
        const filler = results.filter(
          (r) => r.recorded && r.outcome === 'assigned' && r.shiftFilled,
        );
        expect(filler).toHaveLength(1);
        expect(new Set(closed).size).toBe(closed.length);
        expect(closed.every((e) => !won.includes(e))).toBe(true);
        const [summary] = await store.listShifts({ id: 1 });
        expect(summary?.shift).toMatchObject({ status: 'assigned', filled: 3 });
        expect(summary?.assignedTo).toEqual(won);
        expect(summary?.offers).toMatchObject({ total: 200, open: 0, accepted: 200 });
      });

      it('records one answer per employee when retries and rejections race', async () => {
        const employees = Array.from({ length: 40 }, (_, i) => 1 + i);
        await store.createShift({ ...SHIFT, id: 2, slots: 2 }, 1000);
        await store.addOffers(2, employees, 1000, {});
        // Each call resolves to whether it recorded the answer.
        const calls = employees.flatMap((e, i): Promise<boolean>[] =>
          i % 4 === 0
            ? [0, 1].map(async () => (await store.reject(2, e, 2000)) !== undefined)
            : [0, 1].map(async () => (await store.claim(2, e, 2000)).recorded),
        );
        const recorded = await Promise.all(calls);
        for (let i = 0; i < recorded.length; i += 2) {
          expect(recorded.slice(i, i + 2).filter(Boolean)).toHaveLength(1);
        }
        const offers = await store.offersForShift(2);
        expect(offers.filter((o) => o.outcome === 'assigned')).toHaveLength(2);
        expect(offers.filter((o) => o.response === 'rejected')).toHaveLength(10);
        expect(offers.every((o) => o.response !== null)).toBe(true);
      });

      it('closes each due offer once when deadlines and answers race', async () => {
        const employees = Array.from({ length: 30 }, (_, i) => 1 + i);
        await store.createShift({ ...SHIFT, id: 3 }, 1000);
        await store.addOffers(3, employees, 1000, { expiresAt: 5000 });
        const [a, b] = await Promise.all([store.expireDue(5000), store.expireDue(5000)]);
        const closed = [...(a ?? []), ...(b ?? [])].flatMap((c) => c.empIds);
        expect(closed.sort((x, y) => x - y)).toEqual(employees);
      });
    });
  });
}
