/**
 * The stats part of the store contract (test/store-contract.ts): a small history written
 * through the store at chosen times, so that every count and duration below is worked out by
 * hand, and both stores must give exactly these figures.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Spread, StatsGroup, Store } from '../src/store/types.js';

const SHIFT = { date: '2026-01-20', start_time: '09:00', end_time: '17:00' };

/**
 * Seven shifts (times in ms since the epoch):
 * 1 North/Acme: sent to 1, 2, 3 at 1000; 1 and 2 delivered at 1100; 1 rejects at 3000, 2 wins
 *   at 5000 (3's offer closes taken), 3 accepts late at 9000.
 * 2 North/Beta, two slots: sent to 1, 2 at 2000, deadline 12000; 1 wins a slot at 4000, 2's
 *   offer expires. Open with nobody left to ask: unfilled.
 * 3 South, cascade 4 then 5, 10 s a step: 4 sent at 3000 (delivered 3100), rejects at 6000; 5
 *   sent at 6000, rejects at 15000; the cascade runs out (unfilled).
 * 4 South/Acme: sent to 1 at 4000, withdrawn at 7000.
 * 5 North: sent to 2 at 50000 (delivered 50100), who wins at 51000.
 * 6 South, created at 5000, never offered.
 * 7 South: sent to 3 at 6000, unanswered (open).
 */
async function seed(store: Store): Promise<void> {
  await store.upsertEmployees([{ id: 1, name: 'Ana' }]);
  const north = { location_name: 'North', service_type: 'Home Care' };
  await store.createShift({ ...SHIFT, ...north, id: 1, client_name: 'Acme' }, 1000);
  await store.addOffers(1, [1, 2, 3], 1000, {});
  store.markDelivered(1, [1, 2], 1100);
  await store.createShift(
    { ...SHIFT, ...north, id: 2, client_name: 'Beta', service_type: 'Overnight', slots: 2 },
    2000,
  );
  await store.addOffers(2, [1, 2], 2000, { expiresAt: 12_000 });
  await store.createShift(
    { ...SHIFT, id: 3, location_name: 'South', mode: 'cascade', stepTtlS: 10 },
    3000,
  );
  await store.addOffers(3, [4, 5], 3000, { queued: true });
  await store.advanceCascade(3, 3000);
  store.markDelivered(3, [4], 3100);
  await store.reject(1, 1, 3000);
  await store.claim(2, 1, 4000);
  await store.createShift({ ...SHIFT, id: 4, location_name: 'South', client_name: 'Acme' }, 4000);
  await store.addOffers(4, [1], 4000, {});
  await store.claim(1, 2, 5000);
  await store.createShift({ ...SHIFT, id: 6, location_name: 'South' }, 5000);
  await store.reject(3, 4, 6000);
  await store.advanceCascade(3, 6000);
  await store.createShift({ ...SHIFT, id: 7, location_name: 'South' }, 6000);
  await store.addOffers(7, [3], 6000, {});
  await store.withdraw(4, 7000);
  await store.claim(1, 3, 9000);
  await store.expireDue(12_000);
  await store.reject(3, 5, 15_000);
  await store.advanceCascade(3, 15_000);
  await store.createShift({ ...SHIFT, id: 5, location_name: 'North' }, 50_000);
  await store.addOffers(5, [2], 50_000, {});
  store.markDelivered(5, [2], 50_100);
  await store.claim(5, 2, 51_000);
}

/** A spread, to the microsecond (interpolation leaves a few ulps either way). */
function expectSpread(actual: Spread | undefined, median: number | null, p90: number | null) {
  for (const [got, want] of [
    [actual?.median, median],
    [actual?.p90, p90],
  ] as const) {
    if (want === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(want, 3);
  }
}

function groupOf(groups: StatsGroup[] | undefined, key: string | number | null): StatsGroup {
  const group = groups?.find((g) => g.key === key);
  if (!group) throw new Error(`no group ${key}`);
  return group;
}

/** Registers the stats cases; `store` gives the test's store. */
export function describeStatsContract(store: () => Store): void {
  describe('stats', () => {
    beforeEach(async () => {
      await seed(store());
    });

    it('count offers and shifts and time them, over everything', async () => {
      const { total, groups } = await store().stats({});
      expect(groups).toBeUndefined();
      expect(total.key).toBeNull();
      const { responseMs, ...offers } = total.offers;
      expect(offers).toEqual({
        sent: 10,
        delivered: 4,
        answered: 7,
        accepted: 4,
        rejected: 3,
        expired: 1,
        assigned: 3,
      });
      // 1000 2000 2000 3000 4000 8000 9000: the 4th; p90 at 5.4, 8000 + 0.4 * 1000.
      expectSpread(responseMs, 3000, 8400);
      const { firstAcceptMs, fillMs, ...shifts } = total.shifts ?? {};
      expect(shifts).toEqual({ offered: 6, filled: 2, unfilled: 2, withdrawn: 1, open: 1 });
      // First acceptances 1000 2000 4000; fills 1000 4000.
      expectSpread(firstAcceptMs, 2000, 3600);
      expectSpread(fillMs, 2500, 3700);
    });

    it('group by location, with the same figures for each', async () => {
      const { total, groups } = await store().stats({ by: 'location' });
      expect(total.offers.sent).toBe(10);
      expect(groups?.map((g) => g.key).sort()).toEqual(['North', 'South']);
      const north = groupOf(groups, 'North');
      expect(north.offers).toMatchObject({
        sent: 6,
        delivered: 3,
        answered: 5,
        accepted: 4,
        rejected: 1,
        expired: 1,
        assigned: 3,
      });
      expectSpread(north.offers.responseMs, 2000, 6400);
      expect(north.shifts).toMatchObject({
        offered: 3,
        filled: 2,
        unfilled: 1,
        withdrawn: 0,
        open: 0,
      });
      expectSpread(north.shifts?.firstAcceptMs, 2000, 3600);
      expectSpread(north.shifts?.fillMs, 2500, 3700);
      const south = groupOf(groups, 'South');
      expect(south.offers).toMatchObject({ sent: 4, delivered: 1, answered: 2, accepted: 0 });
      expectSpread(south.offers.responseMs, 6000, 8400);
      expect(south.shifts).toMatchObject({ offered: 3, filled: 0, unfilled: 1, withdrawn: 1 });
      expectSpread(south.shifts?.firstAcceptMs, null, null);
      expectSpread(south.shifts?.fillMs, null, null);
    });

    it('group shifts without the detail under a null key', async () => {
      const { groups } = await store().stats({ by: 'client' });
      const sent = groups?.map((g) => [g.key, g.offers.sent, g.shifts?.offered]);
      expect(sent?.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
        ['Acme', 4, 2],
        ['Beta', 2, 1],
        [null, 4, 3],
      ]);
      const { groups: services } = await store().stats({ by: 'service_type' });
      expect(groupOf(services, 'Overnight').offers.sent).toBe(2);
    });

    it('give each employee their answers and speed, with their name when known', async () => {
      const { total, groups } = await store().stats({ by: 'employee' });
      expect(total.shifts?.offered).toBe(6);
      expect(groups?.map((g) => g.key).sort()).toEqual([1, 2, 3, 4, 5]);
      const ana = groupOf(groups, 1);
      expect(ana).toMatchObject({ name: 'Ana', shifts: null });
      expect(ana.offers).toMatchObject({
        sent: 3,
        delivered: 1,
        answered: 2,
        accepted: 1,
        rejected: 1,
        assigned: 1,
      });
      expectSpread(ana.offers.responseMs, 2000, 2000);
      const two = groupOf(groups, 2);
      expect(two.name).toBeNull();
      expect(two.offers).toMatchObject({ sent: 3, delivered: 2, answered: 2, expired: 1 });
      expectSpread(two.offers.responseMs, 2500, 3700);
      // A late acceptance is an answer, and an acceptance, but no assignment.
      expect(groupOf(groups, 3).offers).toMatchObject({
        sent: 2,
        answered: 1,
        accepted: 1,
        assigned: 0,
      });
      expectSpread(groupOf(groups, 5).offers.responseMs, 9000, 9000);
    });

    it('count offers by when they were sent and shifts by when they were created', async () => {
      const { total } = await store().stats({ from: 1500, to: 5500 });
      expect(total.offers).toMatchObject({
        sent: 4,
        delivered: 1,
        answered: 2,
        accepted: 1,
        rejected: 1,
        expired: 1,
      });
      expectSpread(total.offers.responseMs, 2500, 2900);
      expect(total.shifts).toMatchObject({ offered: 3, filled: 0, unfilled: 2, withdrawn: 1 });
      expectSpread(total.shifts?.firstAcceptMs, 2000, 2000);
      expectSpread(total.shifts?.fillMs, null, null);
      const empty = await store().stats({ from: 100_000, by: 'location' });
      expect(empty.total.offers.sent).toBe(0);
      expectSpread(empty.total.offers.responseMs, null, null);
      expect(empty.total.shifts?.offered).toBe(0);
      expect(empty.groups).toEqual([]);
    });
  });
}
