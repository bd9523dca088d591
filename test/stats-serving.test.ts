/**
 * On a SQLite file the stats add up on the server's one connection, a range of shifts at a
 * time: between ranges the server goes on serving. Here a real server over a seeded history,
 * read a few offers at a step so that the question takes many steps, answers an offer and its
 * health checks while `GET /api/admin/stats` is still adding up; and a store closed under a
 * question ends it with a clear error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../src/bench/seed-stats.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { openSqliteLoader } from '../src/store/bulk-load.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { get, post, respond, startServer, withTimeout } from './helpers.js';

const OFFERS = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'shiftctl-stats-serving-'));
const file = join(dir, 'stats.db');
beforeAll(async () => {
  await seed(openSqliteLoader(file), { offers: OFFERS, seed: 5 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GET /api/admin/stats on a SQLite file', () => {
  let server: ShiftServer;
  afterAll(async () => {
    await server?.close();
  });

  it('leaves the server answering offers and health checks while it adds up', async () => {
    // 200 offers a step: a hundred steps, the server free between each.
    server = await startServer({ store: createSqliteStore({ path: file, statsChunkOffers: 200 }) });
    const shift = await post(server, '/api/admin/shifts', {
      id: 900_001,
      date: '2027-01-05',
      start_time: '09:00',
      end_time: '17:00',
      offer_to: [7],
    });
    expect(shift.status).toBe(201);

    let statsAt: number | undefined;
    const stats = get(server, '/api/admin/stats?by=location').then((res) => {
      statsAt = performance.now();
      return res;
    });
    const answer = await respond(server, 7, 900_001, 'accepted');
    const answerAt = performance.now();
    let checks = 0;
    while (statsAt === undefined && checks < 1000) {
      expect((await get(server, '/healthz')).status).toBe(200);
      checks++;
    }
    const res = await withTimeout(stats, 20_000, 'the stats');

    expect(answer.status).toBe(200);
    expect(answer.body.assigned).toBe(true);
    expect(statsAt).toBeGreaterThan(answerAt);
    // Served one after another, each while the stats were still adding up.
    expect(checks).toBeGreaterThanOrEqual(5);
    expect(res.status).toBe(200);
    expect(res.body.total.offers.sent).toBeGreaterThan(OFFERS * 0.9);
  });
});

describe('a SQLite store closed under a question', () => {
  it('ends it with E_UNAVAILABLE, and nothing else breaks', async () => {
    const store = createSqliteStore({ path: file, statsChunkOffers: 200 });
    const asked = store.stats({ by: 'employee' });
    await store.close();
    await expect(asked).rejects.toMatchObject({
      code: 'E_UNAVAILABLE',
      message: 'The server is shutting down: the stats were not finished.',
    });
  });
});
