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
