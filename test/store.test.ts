/** The SQLite store's group commit: writes of one tick share a transaction, failures stay their own. */
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/store/sqlite.js';
import type { OfferWrite, Store } from '../src/store/types.js';

const SHIFT = { date: '2026-01-20', start_time: '09:00', end_time: '17:00' };

function offersOf(write: OfferWrite) {
  if (!write.offered) throw new Error(`nothing offered: the shift is ${write.status}`);
  return write.offers;
}

describe('writes queued in the same turn of the event loop', () => {
  let store: Store;
  afterEach(async () => {
    await store.close();
  });

  it('commit together, and one that fails is refused alone, leaving nothing of itself', async () => {
    store = createSqliteStore({ path: ':memory:' });
    await store.createShift({ ...SHIFT, id: 1 }, 1000);
    // All of these are queued before the next commit.
    const results = await Promise.allSettled([
      store.createShift({ ...SHIFT, id: 2 }, 2000),
      store.createShift({ ...SHIFT, id: 1 }, 2000), // taken: refused
      // The first employee is written, then the second id is not an integer: the whole write
      // must leave no trace.
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
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'E_SHIFT_EXISTS' });
    expect((await store.getShift(2))?.createdAt).toBe(2000);
    expect((await store.getShift(1))?.createdAt).toBe(1000);
    expect((await store.offersForShift(1)).map((o) => o.empId)).toEqual([7, 8]);
    const employees = (await store.employees()).map((e) => [e.empId, e.name]);
    expect(employees).toEqual([
      [7, null],
      [8, null],
      [902, 'Whole'],
    ]);
  });

  it('build what they wrote without reading it back, exactly as a read returns it', async () => {
    store = createSqliteStore({ path: ':memory:' });
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
  });

  it('close the other offers when a claim fills the shift, and name those who had been sent one', async () => {
    store = createSqliteStore({ path: ':memory:' });
    // Two slots; employee 2 has rejected; 5 has no offer yet.
    await store.createShift({ ...SHIFT, id: 70, slots: 2 }, 1000);
    await store.addOffers(70, [1, 2, 3, 4], 1100, {});
    expect(await store.reject(70, 2, 1200)).toBe('rejected');
    const first = await store.claim(70, 3, 1300);
    expect(first).toEqual({ recorded: true, outcome: 'assigned', shiftFilled: false, closed: [] });
    const last = await store.claim(70, 1, 1300);
    expect(last).toEqual({ recorded: true, outcome: 'assigned', shiftFilled: true, closed: [4] });
    const offers = await store.offersForShift(70);
    expect(offers.map((o) => [o.empId, o.response, o.outcome, o.answeredAt])).toEqual([
      [1, 'accepted', 'assigned', 1300],
      [2, 'rejected', 'rejected', 1200],
      [3, 'accepted', 'assigned', 1300],
      [4, null, 'taken', null],
    ]);
    expect((await store.getShift(70))?.status).toBe('assigned');
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
    expect(await store.claim(70, 4, 1400)).toMatchObject({ recorded: true, outcome: 'taken' });
    expect((await store.getOffer(70, 1))?.answeredAt).toBe(1300);
  });

  it('give a shift created without an id one that JSON keeps exact, even after the largest', async () => {
    store = createSqliteStore({ path: ':memory:' });
    await store.createShift({ ...SHIFT, id: 5 }, 1000);
    expect((await store.createShift(SHIFT, 1000)).id).toBe(6);
    await store.createShift({ ...SHIFT, id: Number.MAX_SAFE_INTEGER }, 1000);
    // One past it would be 2^53, which a JSON client reads as 2^53 + 1 too: the lowest free
    // ids are used instead, each once.
    const ids = await Promise.all([1, 2, 3].map(() => store.createShift(SHIFT, 2000)));
    expect(ids.map((shift) => shift.id)).toEqual([1, 2, 3]);
    expect((await store.createShift(SHIFT, 2000)).id).toBe(4);
    expect((await store.createShift(SHIFT, 2000)).id).toBe(7);
    expect(await store.getShift(7)).toMatchObject({ id: 7, createdAt: 2000 });
  });

  it('journal every line of a busy tick once, in the order it happened', async () => {
    store = createSqliteStore({ path: ':memory:' });
    const line = (n: number) => ({
      at: 1000 + n,
      kind: 'request' as const,
      empId: n,
      shiftId: null,
      name: `line ${n}`,
      outcome: '200',
      detail: n % 5 === 0 ? { n } : null,
    });
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
    expect(read.find((e) => e.name === 'line 55')).toMatchObject({ empId: 55, detail: { n: 55 } });
    expect(read.find((e) => e.name === 'line 30')).toMatchObject({ empId: 30, detail: { n: 30 } });
    expect(new Set(read.map((e) => e.id)).size).toBe(read.length);
  });
});

describe('offering a shift', () => {
  let store: Store;
  afterEach(async () => {
    await store.close();
  });

  it('writes nothing for a shift that is not open, and says why', async () => {
    store = createSqliteStore({ path: ':memory:' });
    await store.createShift({ ...SHIFT, id: 1 }, 1000);
    await store.addOffers(1, [7, 8], 1100, {});
    await store.claim(1, 7, 1200);
    await store.createShift({ ...SHIFT, id: 2, mode: 'cascade' }, 1000);
    await store.withdraw(2, 1300);
    const many = Array.from({ length: 20 }, (_, i) => 100 + i);

    expect(await store.addOffers(1, [9], 1400, {})).toEqual({ offered: false, status: 'assigned' });
    expect(await store.addOffers(1, many, 1400, {})).toEqual({
      offered: false,
      status: 'assigned',
    });
    // Even to someone who holds an offer of it already, and to nobody at all.
    expect(await store.addOffers(1, [8], 1400, {})).toEqual({ offered: false, status: 'assigned' });
    expect(await store.addOffers(1, [], 1400, {})).toEqual({ offered: false, status: 'assigned' });
    expect(await store.addOffers(2, [9], 1400, { queued: true })).toEqual({
      offered: false,
      status: 'withdrawn',
    });
    expect(await store.addOffers(3, [9], 1400, {})).toEqual({ offered: false, status: undefined });
    expect((await store.offersForShift(1)).map((o) => [o.empId, o.outcome])).toEqual([
      [7, 'assigned'],
      [8, 'taken'],
    ]);
    expect(await store.offersForShift(2)).toEqual([]);
  });

  it('offers an existing shift in the same write as it ensures it, only while it is open', async () => {
    store = createSqliteStore({ path: ':memory:' });
    await store.createShift({ ...SHIFT, id: 5, slots: 2 }, 1000);
    const offer = { empIds: [7], expiresAt: 9000 };

    const open = await store.ensureShift({ ...SHIFT, id: 5 }, 2000, offer, { description: 'new' });

    expect(open.created).toBe(false);
    expect(open.shift.description).toBe('new');
    expect(open.offers).toEqual([await store.getOffer(5, 7)]);
    expect(open.offers?.[0]).toMatchObject({ outcome: 'open', sentAt: 2000, expiresAt: 9000 });
    await store.withdraw(5, 3000);
    const closed = await store.ensureShift(
      { ...SHIFT, id: 5 },
      4000,
      { empIds: [8], expiresAt: null },
      {
        description: 'later',
      },
    );
    expect(closed).toEqual({ shift: await store.getShift(5), created: false });
    expect(closed.shift).toMatchObject({ status: 'withdrawn', description: 'new' });
    expect(await store.getOffer(5, 8)).toBeUndefined();
  });

  it('cancels the assignments of a shift withdrawn with a slot still free', async () => {
    store = createSqliteStore({ path: ':memory:' });
    await store.createShift({ ...SHIFT, id: 9, slots: 2 }, 1000);
    await store.addOffers(9, [1, 2, 3], 1100, {});
    await store.claim(9, 1, 1200);
    await store.reject(9, 3, 1200);

    expect((await store.withdraw(9, 1300))?.sort()).toEqual([1, 2]);

    expect((await store.offersForShift(9)).map((o) => [o.empId, o.response, o.outcome])).toEqual([
      [1, 'accepted', 'withdrawn'],
      [2, null, 'withdrawn'],
      [3, 'rejected', 'rejected'],
    ]);
    expect(await store.getShift(9)).toMatchObject({
      status: 'withdrawn',
      filled: 0,
      closedAt: 1300,
    });
    const [summary] = await store.listShifts({ id: 9 });
    expect(summary?.assignedTo).toEqual([]);
    expect((await store.employees()).find((e) => e.empId === 1)?.assigned).toEqual([]);
  });
});
