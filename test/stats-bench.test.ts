/**
 * The stats benchmark's parts: its generated history is what the rules would have written,
 * both stores give the same figures over it (PostgreSQL when SHIFTCTL_TEST_POSTGRES is set),
 * and its section of BENCHMARKS.md is replaced in place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generate,
  type SeedOptions,
  seed,
  statsSectionOf,
  withStatsSection,
} from '../src/bench/seed-stats.js';
import { openPostgresLoader, openSqliteLoader } from '../src/store/bulk-load.js';
import { createPostgresStore } from '../src/store/postgres.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import type { Stats, StatsQuery, Store } from '../src/store/types.js';
import { percentileCont } from './helpers.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

const SMALL: SeedOptions = { offers: 4000, seed: 7 };
const END = Date.parse('2026-06-30T00:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'shiftctl-stats-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the seeded history', () => {
  it('holds the offers asked for, each shift consistent with its offers', () => {
    const batches = [...generate(SMALL, END)];
    const shifts = batches.flatMap((b) => b.shifts);
    const offers = batches.flatMap((b) => b.offers);
    expect(offers).toHaveLength(SMALL.offers);
    const byShift = new Map<number, typeof offers>();
    for (const o of offers) byShift.set(o.shift_id, [...(byShift.get(o.shift_id) ?? []), o]);
    for (const shift of shifts) {
      const mine = byShift.get(shift.id) ?? [];
      const assigned = mine.filter((o) => o.outcome === 'assigned').length;
      expect(assigned).toBe(shift.status === 'withdrawn' ? 0 : shift.filled);
      if (shift.status === 'assigned') expect(shift.filled).toBe(shift.slots);
      for (const o of mine) {
        expect(Number.isInteger(o.sent_at ?? 0) && Number.isInteger(o.answered_at ?? 0)).toBe(true);
        if (o.answered_at !== null) expect(o.answered_at).toBeGreaterThan(o.sent_at as number);
        if (o.sent_at !== null) expect(o.sent_at).toBeGreaterThanOrEqual(shift.created_at);
        if (o.outcome === 'queued') expect(o.sent_at).toBeNull();
      }
    }
    expect(new Set(shifts.map((s) => s.status))).toEqual(
      new Set(['assigned', 'open', 'unfilled', 'withdrawn']),
    );
  });
});

/** Figures as the API shows them: durations to the millisecond. */
function rounded(stats: Stats): unknown {
  return JSON.parse(
    JSON.stringify(stats, (_, v) => (typeof v === 'number' ? Math.round(v) : v)),
    (_, v) =>
      Array.isArray(v) ? [...v].sort((a, b) => String(a.key).localeCompare(String(b.key))) : v,
  );
}

const QUERIES: StatsQuery[] = [
  {},
  { by: 'location' },
  { by: 'client' },
  { by: 'service_type' },
  { by: 'employee' },
  { from: END - 120 * 86_400_000, to: END - 30 * 86_400_000, by: 'location' },
];

describe('stats over the seeded history', () => {
  it('add up on SQLite: groups to the total', async () => {
    const file = join(dir, 'sqlite.db');
    await seed(openSqliteLoader(file), SMALL);
    const store = createSqliteStore({ path: file });
    try {
      const { total, groups } = await store.stats({ by: 'location' });
      const sum = (pick: (g: NonNullable<typeof groups>[number]) => number) =>
        (groups ?? []).reduce((n, g) => n + pick(g), 0);
      expect(total.offers.sent).toBeGreaterThan(3500);
      expect(sum((g) => g.offers.sent)).toBe(total.offers.sent);
      expect(sum((g) => g.offers.answered)).toBe(total.offers.answered);
      expect(sum((g) => g.shifts?.offered ?? 0)).toBe(total.shifts?.offered);
      const s = total.shifts;
      expect((s?.filled ?? 0) + (s?.unfilled ?? 0) + (s?.withdrawn ?? 0) + (s?.open ?? 0)).toBe(
        s?.offered,
      );
    } finally {
      await store.close();
    }
  });

  describe.skipIf(postgresUrl === undefined)('and on PostgreSQL (SHIFTCTL_TEST_POSTGRES)', () => {
    const schemas = testSchemas();
    afterAll(() => schemas.dropAll());

    it('are the same on both stores, to the millisecond', async () => {
      const file = join(dir, 'both.db');
      const schema = schemas.name();
      await seed(openSqliteLoader(file), SMALL);
      await seed(await openPostgresLoader(postgresUrl ?? '', schema), SMALL);
      const stores: Store[] = [
        createSqliteStore({ path: file }),
        await createPostgresStore({ url: postgresUrl ?? '', schema, poolSize: 2 }),
      ];
      try {
        for (const query of QUERIES) {
          const [lite, pg] = await Promise.all(stores.map((s) => s.stats(query)));
          expect(rounded(pg as Stats), JSON.stringify(query)).toEqual(rounded(lite as Stats));
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
});

describe('the total response times on SQLite', () => {
  it('stay exact when the sample of every 16th shift is nothing like the rest', async () => {
    // 16 000 shifts of one answered offer each: the sampled shifts' answers take 1 ms, the
    // others' 100 s and more, so the bands drawn from the sample miss the ranks.
    const file = join(dir, 'skewed.db');
    const loader = openSqliteLoader(file);
    const shifts = [];
    const offers = [];
    const values: number[] = [];
    for (let id = 1; id <= 16_000; id++) {
      const d = id % 16 === 0 ? 1 : 100_000 + id;
      values.push(d);
      shifts.push({
        id,
        date: '2026-01-20',
        start_time: '09:00',
        end_time: '17:00',
        location_name: null,
        client_name: null,
        service_type: null,
        description: null,
        priority: 'normal' as const,
        slots: 1,
        filled: 0,
        status: 'open' as const,
        mode: 'broadcast' as const,
        approval: 0 as const,
        step_ttl_s: null,
        created_at: 1000,
        closed_at: null,
      });
      offers.push({
        shift_id: id,
        emp_id: 1,
        position: null,
        sent_at: 1000,
        expires_at: null,
        delivered_at: null,
        answered_at: 1000 + d,
        response: 'rejected' as const,
        outcome: 'rejected' as const,
        closed_at: 1000 + d,
      });
    }
    await loader.batch(shifts, offers);
    await loader.close();
    const store = createSqliteStore({ path: file });
    try {
      const { responseMs } = (await store.stats({})).total.offers;
      expect(responseMs.median).toBeCloseTo(percentileCont(values, 0.5), 6);
      expect(responseMs.p90).toBeCloseTo(percentileCont(values, 0.9), 6);
      expect(responseMs.median).toBeGreaterThan(100_000);
    } finally {
      await store.close();
    }
  });
});

describe('the Stats section of BENCHMARKS.md', () => {
  const SECTION = '## Stats\n\nnew figures\n';
  it('is replaced where it stands, the rest kept', () => {
    const before =
      '# Benchmarks\n\nintro\n\n## Stats\n\nold figures\n\n## What mattered\n\nstory\n';
    const after = withStatsSection(before, SECTION);
    expect(after).toBe(
      '# Benchmarks\n\nintro\n\n## Stats\n\nnew figures\n\n## What mattered\n\nstory\n',
    );
    expect(statsSectionOf(after)).toBe(SECTION);
  });

  it('is added at the end when there is none', () => {
    expect(withStatsSection('# Benchmarks\n\nintro\n', SECTION)).toBe(
      '# Benchmarks\n\nintro\n\n## Stats\n\nnew figures\n',
    );
    expect(statsSectionOf('# Benchmarks\n')).toBeUndefined();
  });
});
