/**
 * The database under pressure: a bounded journal, refusals counted instead of journalled, a full
 * disk, one server per file, and the readiness probe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signToken } from '../src/auth/token.js';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { silentLogger } from '../src/server/log.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { run, serveJson } from './cli-harness.js';
import { get, http, manualClock, post, startServer } from './helpers.js';
import { inProcess } from './in-process.js';

let dir: string;
let file: string;
const servers: ShiftServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shiftctl-storage-'));
  file = join(dir, 'shifts.db');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(options: ServerOptions = {}): Promise<ShiftServer> {
  const server = await startServer(options);
  servers.push(server);
  return server;
}

interface Line {
  id: number;
  shift_id: number | null;
  name: string;
  outcome: string;
}
const journal = async (server: ShiftServer, query = 'limit=1000'): Promise<Line[]> =>
  (await get<Line[]>(server, `/api/admin/journal?${query}`)).body;
const WAIT = { timeout: 5000, interval: 10 };

describe('the journal', () => {
  it('is trimmed in the background to its row cap, its ids going on from the newest', async () => {
    const server = await start({ journalMaxRows: 5, journalTrimIntervalMs: 10 });
    for (let i = 0; i < 30; i++) await get(server, '/api/shift_offer/1/available');
    await vi.waitFor(
      async () => expect((await journal(server)).length).toBeLessThanOrEqual(6),
      WAIT,
    );
    const kept = await journal(server);
    const newest = kept.at(-1)?.id ?? 0;
    expect(newest).toBeGreaterThan(30);
    await get(server, '/api/shift_offer/1/available');
    const after = await journal(server, `after_id=${newest}`);
    expect(after[0]?.id).toBe(newest + 1);
  });

  it('loses its lines older than the age limit, and keeps the newest', async () => {
    const clock = manualClock();
    const server = await start({ clock, journalMaxAgeSeconds: 60, journalTrimIntervalMs: 10 });
    for (let i = 0; i < 10; i++) await get(server, '/api/shift_offer/1/available');
    clock.jump(61_000);
    await get(server, '/api/shift_offer/2/available');
    await vi.waitFor(async () => {
      const lines = await journal(server);
      const asked = lines.filter((l) => l.name === 'GET /api/shift_offer/{shift_id}/available');
      expect(asked.map((l) => l.shift_id)).toEqual([2]);
    }, WAIT);
  });

  it('keeps every line with both limits off', async () => {
    const server = await start({
      journalMaxRows: 0,
      journalMaxAgeSeconds: 0,
      journalTrimIntervalMs: 10,
    });
    for (let i = 0; i < 20; i++) await get(server, '/api/shift_offer/1/available');
    expect((await journal(server)).length).toBe(20);
  });
});

describe('requests refused at the gate', () => {
  const SECRET = 'a-secret-for-tests-only-32-bytes-long';
  const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  it('are counted by code, shown by status, and never journalled', async () => {
    const admin = await signToken({ role: 'admin' }, SECRET, 3600);
    const server = await start({
      secret: SECRET,
      answerRateLimits: {
        employee: { perSecond: 1, burst: 1 },
        address: { perSecond: 1000, burst: 1000 },
      },
    });
    for (let i = 0; i < 3; i++) {
      expect((await get(server, '/api/shift_offers/pending/5')).status).toBe(401);
    }
    const five = await signToken({ emp_id: 5, role: 'employee' }, SECRET, 3600);
    const forbidden = await http(server, 'GET', '/api/shift_offers/pending/6', undefined, as(five));
    expect(forbidden.status).toBe(403);
    const answer = { emp_id: 5, shift_id: 1, response: 'accepted' };
    const init = {
      ...as(five),
      headers: { ...as(five).headers, 'content-type': 'application/json' },
    };
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await http(server, 'POST', '/api/shift_offer/respond', answer, init)).status);
    }
    expect(statuses).toEqual([404, 429, 429]);

    const lines = (
      await http<Line[]>(server, 'GET', '/api/admin/journal?limit=100', undefined, as(admin))
    ).body;
    expect(lines.map((l) => l.outcome)).toEqual(['404']);
    const connections = await http(server, 'GET', '/api/connections', undefined, as(admin));
    expect(connections.body.refused_requests).toEqual({
      E_AUTH_REQUIRED: 3,
      E_FORBIDDEN: 1,
      E_RATE_LIMITED: 2,
    });

    const status = await inProcess('status', '--url', server.url, '--token', admin, '--json');
    expect(status.code).toBe(0);
    const refused = status.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'refused');
    expect(refused).toEqual([
      { type: 'refused', code: 'E_AUTH_REQUIRED', count: 3 },
      { type: 'refused', code: 'E_FORBIDDEN', count: 1 },
      { type: 'refused', code: 'E_RATE_LIMITED', count: 2 },
    ]);
  });
});

describe('a full disk', () => {
  it('fails writes with 503 E_STORAGE_FULL while reads go on, and recovers by itself', async () => {
    const store = createSqliteStore({ path: file });
    const server = await start({ store });
    expect((await post(server, '/api/test/send_offer/7?shift_id=1')).status).toBe(200);

    store.limitPages(0);
    let full: Awaited<ReturnType<typeof post>> | undefined;
    for (let shift = 2; shift < 2000 && !full; shift++) {
      const sent = await post(server, `/api/test/send_offer/7?shift_id=${shift}`);
      if (sent.status !== 200) full = sent;
    }
    expect(full?.status).toBe(503);
    expect(full?.body).toMatchObject({
      success: false,
      code: 'E_STORAGE_FULL',
      message: expect.stringContaining('no space left'),
    });
    const pending = await get(server, '/api/shift_offers/pending/7');
    expect(pending.status).toBe(200);
    expect(pending.body[0]).toMatchObject({ shift_id: 1 });
    expect((await get(server, '/api/shift_offers/history/7')).status).toBe(200);
    expect((await get(server, '/api/connections')).status).toBe(200);
    expect((await get(server, '/api/shift_offer/1/available')).body).toMatchObject({
      available: true,
    });
    expect((await get(server, '/healthz')).status).toBe(200);
    const notReady = await get(server, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.code).toBe('E_STORAGE_FULL');

    store.limitPages(null);
    expect((await post(server, '/api/test/send_offer/7?shift_id=5000')).status).toBe(200);
    expect(await get(server, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });
});

describe('bookkeeping on a full disk', () => {
  it('is dropped, with one warning, and never fails the write it rides with', async () => {
    const warnings: string[] = [];
    const store = createSqliteStore({ path: file, warn: (message) => warnings.push(message) });
    try {
      const line = {
        kind: 'request',
        empId: 1,
        shiftId: null,
        outcome: '200',
        detail: null,
      } as const;
      await store.upsertEmployees([{ id: 1, name: 'Ada' }]);
      store.limitPages(0);
      // The same employee again is rewritten in place: only the journal lines need new pages.
      for (let i = 0; i < 300; i++) {
        store.journal({ ...line, at: i, name: 'x'.repeat(200) });
        await store.upsertEmployees([{ id: 1, name: 'Ada' }]);
      }
      expect(warnings).toEqual([expect.stringContaining('dropping them')]);
      store.limitPages(null);
      store.journal({ ...line, at: 1000, name: 'after' });
      await store.upsertEmployees([{ id: 1, name: 'Ada' }]);
      expect(warnings).toHaveLength(2);
      expect(warnings[1]).toContain('written again');
      expect((await store.readJournal({ limit: 1 }))[0]?.name).toBe('after');
    } finally {
      await store.close();
    }
  });
});

describe('deadlines when the store fails', () => {
  it('are retried after a warning instead of ending the process', async () => {
    const clock = manualClock();
    const real = createSqliteStore({ path: ':memory:' });
    let failing = false;
    const store = {
      ...real,
      expireDue: (now: number) =>
        failing ? Promise.reject(new Error('disk I/O error')) : real.expireDue(now),
    };
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (message: string) => warnings.push(message) };
    const server = await start({ clock, store, log });
    await post(server, '/api/test/send_offer/7?shift_id=1&ttl_seconds=60');
    failing = true;
    clock.advance(61_000);
    await vi.waitFor(
      () =>
        expect(warnings).toContainEqual(
          expect.stringMatching(/^closing offers at their deadline .* failed; retrying in 1000 ms/),
        ),
      WAIT,
    );
    expect((await get(server, '/api/shift_offers/pending/7')).body).toHaveLength(1);
    failing = false;
    clock.advance(1000);
    await vi.waitFor(async () => {
      expect((await get(server, '/api/shift_offers/pending/7')).body).toEqual([]);
    }, WAIT);
    expect((await get(server, '/api/shift_offers/history/7')).body[0]).toMatchObject({
      outcome: 'expired',
    });
  });
});

describe('one server per database file', () => {
  it('refuses a second server on the same file, naming it and the first one', async () => {
    const first = await start({ db: file });
    await expect(start({ db: file })).rejects.toMatchObject({
      code: 'E_DATABASE_IN_USE',
      message: `The database ${file} is in use by another shiftctl serve (pid ${process.pid}); stop it, or use another database file.`,
    });
    expect((await post(first, '/api/test/send_offer/7')).status).toBe(200);
  });

  it('fails at once, not after a busy timeout, when another program holds the file', async () => {
    const other = new Database(file);
    try {
      other.exec('CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
      const started = Date.now();
      await expect(start({ db: file })).rejects.toMatchObject({
        code: 'E_DATABASE_IN_USE',
        message: expect.stringContaining(`${file} is in use by another program`),
      });
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      other.close();
    }
  });

  it('is told apart by the real binary: a second serve exits with one line', async () => {
    const { cli } = await serveJson('--db', file, '--no-fixtures');
    const second = await run('serve', '--port', '0', '--db', file, '--no-fixtures');
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `shiftctl: The database ${file} is in use by another shiftctl serve (pid ${cli.child.pid}); stop it, or use another database file.\n`,
    );
  });
});

describe('/readyz', () => {
  it('answers ready once fixtures are loaded, and is not journalled', async () => {
    const server = await start();
    expect(await get(server, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    await get(server, '/healthz');
    expect(await journal(server)).toEqual([]);
  });
});
