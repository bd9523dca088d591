/**
 * The SQLite store's own mechanics: group commit (writes of one tick share a transaction,
 * failures stay their own) and how it picks ids. What every store does is in store-contract.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/types.js';

const SHIFT = { date: '2026-01-20', start_time: '09:00', end_time: '17:00' };

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
