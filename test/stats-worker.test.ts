/**
 * The server adds up SQLite's stats in a worker thread, which runs the compiled module (dist/,
 * which `npm test` builds first); the tests of the TypeScript sources add up in their own
 * thread, with the same code. Here the built store, its worker and all, gives exactly the
 * figures of the sources over a seeded history: every grouping, with and without a window,
 * several questions at once on the one worker, and a question given up mid-way (the store
 * closed under it) leaving the next one whole.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../src/bench/seed-stats.js';
import { openSqliteLoader } from '../src/store/bulk-load.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import type { Stats, StatsQuery } from '../src/store/types.js';

type SqliteModule = typeof import('../src/store/sqlite.js');

const BUILT = new URL('../dist/store/sqlite.js', import.meta.url);
const END = Date.parse('2026-06-30T00:00:00Z');
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'shiftctl-stats-worker-'));
const file = join(dir, 'stats.db');
let built: SqliteModule;

beforeAll(async () => {
  if (!existsSync(fileURLToPath(BUILT))) {
    throw new Error('dist/store/sqlite.js is missing: run `npm run build` before these tests.');
  }
  built = (await import(BUILT.href)) as SqliteModule;
  await seed(openSqliteLoader(file), { offers: 6000, seed: 3 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WINDOW = { from: END - 120 * DAY, to: END - 30 * DAY };
const QUERIES: StatsQuery[] = [
  {},
  { by: 'location' },
  { by: 'client' },
  { by: 'service_type' },
  { by: 'employee' },
  WINDOW,
  { ...WINDOW, by: 'client' },
  { ...WINDOW, by: 'employee' },
];

/** The figures with the groups in one order (each store gives them in its own). */
function sorted(stats: Stats): Stats {
  const groups = stats.groups?.toSorted((a, b) => String(a.key).localeCompare(String(b.key)));
  return groups ? { ...stats, groups } : stats;
}

async function askAll(create: SqliteModule['createSqliteStore']): Promise<Stats[]> {
  // A few offers a step: the worker is sent many ranges of each question.
  const store = create({ path: file, statsChunkOffers: 500 });
  try {
    // All at once: the one worker adds up each question apart.
    return (await Promise.all(QUERIES.map((q) => store.stats(q)))).map(sorted);
  } finally {
    await store.close();
  }
}

describe('the stats added up in the worker thread', () => {
  it('are the figures added up in the calling thread, for every question', async () => {
    const expected = await askAll(createSqliteStore);
    expect(expected[0]?.total.offers.sent).toBeGreaterThan(5000);
    expect(await askAll(built.createSqliteStore)).toEqual(expected);
  });

  it('leave the next question whole after one given up', async () => {
    const closing = built.createSqliteStore({ path: file, statsChunkOffers: 50 });
    const asked = closing.stats({ by: 'location' });
    await closing.close();
    await expect(asked).rejects.toMatchObject({ code: 'E_UNAVAILABLE' });

    const ask = async (create: SqliteModule['createSqliteStore']) => {
      const store = create({ path: file, statsChunkOffers: 50 });
      try {
        return sorted(await store.stats({ by: 'location' }));
      } finally {
        await store.close();
      }
    };
    expect(await ask(built.createSqliteStore)).toEqual(await ask(createSqliteStore));
  });
});
