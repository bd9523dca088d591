/** Offers and answers are on disk once acknowledged: they survive a clean restart and `kill -9`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_FIXTURES_PATH, readFixtures } from '../src/fixtures.js';
import { createServer, type ShiftServer } from '../src/server/create-server.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { serveJson } from './cli-harness.js';
import { get, post, respond } from './helpers.js';

let dir: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shiftctl-durability-'));
  db = join(dir, 'shifts.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What an employee's app can see about the given shifts. */
async function snapshot(server: ShiftServer, empId: number, shiftIds: number[]) {
  return {
    pending: (await get(server, `/api/shift_offers/pending/${empId}`)).body,
    history: (await get(server, `/api/shift_offers/history/${empId}`)).body,
    available: await Promise.all(
      shiftIds.map(async (id) => (await get(server, `/api/shift_offer/${id}/available`)).body),
    ),
  };
}

describe('a restart of the library server on the same file', () => {
  const servers: ShiftServer[] = [];
  const start = async (options: Parameters<typeof createServer>[0] = {}) => {
    const server = await createServer({ port: 0, db, heartbeatSeconds: 0, ...options });
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('keeps pending offers, history, availability and the outcome of every answer', async () => {
    const first = await start();
    for (const shift of [1, 2, 3]) await post(first, `/api/test/send_offer/7?shift_id=${shift}`);
    await post(first, '/api/test/send_offer/8?shift_id=2');
    const accepted = await respond(first, 7, 2, 'accepted');
    expect(accepted.body).toMatchObject({ assigned: true, outcome: 'assigned' });
    const rejected = await respond(first, 7, 3, 'rejected');
    expect(rejected.body).toMatchObject({ assigned: false, outcome: 'rejected' });
    const before7 = await snapshot(first, 7, [1, 2, 3]);
    const before8 = await snapshot(first, 8, [2]);
    expect(before7.pending.map((o: { shift_id: number }) => o.shift_id)).toEqual([1]);
    expect(before8.pending).toEqual([]);
    await first.close();

    const second = await start({ fixtures: await readFixtures(DEMO_FIXTURES_PATH) });
    expect(second.fixturesLoaded).toBe(false);
    expect(await snapshot(second, 7, [1, 2, 3])).toEqual(before7);
    expect(await snapshot(second, 8, [2])).toEqual(before8);

    const retryAccept = await respond(second, 7, 2, 'accepted');
    expect(retryAccept.status).toBe(200);
    expect(retryAccept.body).toEqual(accepted.body);
    expect((await respond(second, 7, 3, 'rejected')).body).toEqual(rejected.body);
    const change = await respond(second, 7, 2, 'rejected');
    expect(change.status).toBe(409);
    expect(change.body).toMatchObject({ success: false, code: 'E_ANSWER_CONFLICT' });
    const late = await respond(second, 8, 2, 'accepted');
    expect(late.body).toMatchObject({ success: true, assigned: false, outcome: 'taken' });

    // The demo data was not loaded on top of the existing data.
    expect((await get(second, '/api/shift_offer/1001/available')).status).toBe(404);
    expect((await get(second, '/api/shift_offers/pending/123')).body).toEqual([]);
  });

  it('loads fixtures into an empty file once, and never resets answers on restart', async () => {
    const fixtures = await readFixtures(DEMO_FIXTURES_PATH);
    const first = await start({ fixtures });
    expect(first.fixturesLoaded).toBe(true);
    const pendingBefore = (await get(first, '/api/shift_offers/pending/123')).body;
    expect(pendingBefore.map((o: { shift_id: number }) => o.shift_id)).toContain(1001);
    const accepted = await respond(first, 123, 1001, 'accepted');
    expect(accepted.body).toMatchObject({ assigned: true });
    await first.close();

    const second = await start({ fixtures });
    expect(second.fixturesLoaded).toBe(false);
    const pendingAfter = (await get(second, '/api/shift_offers/pending/123')).body;
    expect(pendingAfter).toEqual(
      pendingBefore.filter((o: { shift_id: number }) => o.shift_id !== 1001),
    );
    expect((await get(second, '/api/shift_offer/1001/available')).body).toMatchObject({
      available: false,
    });
    expect((await respond(second, 123, 1001, 'accepted')).body).toEqual(accepted.body);
  });
});

/** Spawns `shiftctl serve` on the test's file and waits for its JSON "listening" line. */
function spawnServer() {
  return serveJson('--db', db, '--no-fixtures');
}

describe('a server killed with SIGKILL right after it answered', () => {
  it('still has the accepted shift assigned and the other offer pending', async () => {
    const first = await spawnServer();
    expect((await post(first, '/api/test/send_offer/5?shift_id=9')).body.status).toBe('pending');
    expect((await post(first, '/api/test/send_offer/5?shift_id=10')).body.status).toBe('pending');
    const accepted = await respond(first, 5, 9, 'accepted');
    const killed = await first.cli.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ success: true, assigned: true, outcome: 'assigned' });

    const second = await spawnServer();
    expect((await get(second, '/api/shift_offer/9/available')).body).toMatchObject({
      available: false,
      status: 'assigned',
    });
    const retry = await respond(second, 5, 9, 'accepted');
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(accepted.body);
    const pending = (await get(second, '/api/shift_offers/pending/5')).body;
    expect(pending).toEqual([expect.objectContaining({ type: 'shift_offer', shift_id: 10 })]);
    expect((await get(second, '/api/shift_offer/10/available')).body).toMatchObject({
      available: true,
    });
  });
});

describe('a database written by an older shiftctl', () => {
  it('is upgraded in place on open, keeping its assignments and journal', async () => {
    const store = createSqliteStore({ path: db });
    await store.createShift(
      { id: 7, date: '2026-01-20', start_time: '09:00', end_time: '17:00' },
      1,
    );
    await store.addOffers(7, [1, 2], 2, {});
    expect(await store.claim(7, 1, 3)).toMatchObject({ outcome: 'assigned', closed: [2] });
    store.journal({
      at: 4,
      kind: 'request',
      empId: 1,
      shiftId: 7,
      name: 'x',
      outcome: '200',
      detail: null,
    });
    await store.close();
    const rowsOf = (d: Database.Database) => ({
      shifts: d.prepare('SELECT * FROM shifts ORDER BY id').all(),
      offers: d.prepare('SELECT * FROM offers ORDER BY shift_id, emp_id').all(),
    });
    const indexesOf = (d: Database.Database) =>
      d
        .prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .all();
    // Put back what schema 3 had: the assignments table (with its row), the old indexes, the
    // CHECKs of shifts and offers spelled with IN lists, and no push tables.
    const raw = new Database(db);
    const before = rowsOf(raw);
    raw.pragma('foreign_keys = OFF');
    raw.exec(`
      DROP TABLE IF EXISTS pushes;
      DROP TABLE IF EXISTS devices;
      CREATE TABLE assignments (shift_id INTEGER NOT NULL REFERENCES shifts (id),
        emp_id INTEGER NOT NULL, assigned_at INTEGER NOT NULL, PRIMARY KEY (shift_id, emp_id)
      ) WITHOUT ROWID;
      CREATE INDEX assignments_by_employee ON assignments (emp_id);
      INSERT INTO assignments VALUES (7, 1, 3);
      CREATE INDEX journal_by_employee ON journal (emp_id, id);
      CREATE INDEX journal_by_shift ON journal (shift_id, id);
      CREATE TABLE shifts_v4 (
        id INTEGER PRIMARY KEY, date TEXT NOT NULL, start_time TEXT NOT NULL,
        end_time TEXT NOT NULL, location_name TEXT, client_name TEXT, service_type TEXT,
        description TEXT, slots INTEGER NOT NULL DEFAULT 1 CHECK (slots >= 1),
        filled INTEGER NOT NULL DEFAULT 0 CHECK (filled >= 0 AND filled <= slots),
        status TEXT NOT NULL DEFAULT 'open'
          CHECK (status IN ('open', 'assigned', 'unfilled', 'withdrawn')),
        mode TEXT NOT NULL DEFAULT 'broadcast' CHECK (mode IN ('broadcast', 'cascade')),
        approval INTEGER NOT NULL DEFAULT 0 CHECK (approval IN (0, 1)),
        step_ttl_s INTEGER, created_at INTEGER NOT NULL, closed_at INTEGER
      );
      INSERT INTO shifts_v4 SELECT id, date, start_time, end_time, location_name, client_name,
        service_type, description, slots, filled, status, mode, approval, step_ttl_s,
        created_at, closed_at FROM shifts;
      DROP TABLE shifts;
      ALTER TABLE shifts_v4 RENAME TO shifts;
      CREATE INDEX shifts_status ON shifts (status);
      DROP INDEX offers_by_employee;
      DROP INDEX offers_by_deadline;
      CREATE TABLE offers_v4 (
        shift_id INTEGER NOT NULL REFERENCES shifts (id), emp_id INTEGER NOT NULL,
        position INTEGER, sent_at INTEGER, expires_at INTEGER, delivered_at INTEGER,
        answered_at INTEGER, response TEXT CHECK (response IN ('accepted', 'rejected')),
        outcome TEXT NOT NULL DEFAULT 'open' CHECK (outcome IN ('queued', 'open', 'requested',
          'assigned', 'taken', 'rejected', 'expired', 'withdrawn')),
        closed_at INTEGER, PRIMARY KEY (shift_id, emp_id)
      ) WITHOUT ROWID;
      INSERT INTO offers_v4 SELECT * FROM offers;
      DROP TABLE offers;
      ALTER TABLE offers_v4 RENAME TO offers;
      CREATE INDEX offers_by_employee ON offers (emp_id, outcome, sent_at);
      CREATE INDEX offers_by_deadline ON offers (expires_at)
        WHERE outcome = 'open' AND expires_at IS NOT NULL;
      PRAGMA user_version = 3;`);
    expect(
      raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'offers'").pluck().get(),
    ).toMatch(/outcome IN/);
    expect(
      raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'shifts'").pluck().get(),
    ).toMatch(/status IN/);
    raw.close();

    const upgraded = createSqliteStore({ path: db });
    const [summary] = await upgraded.listShifts({ id: 7 });
    expect(summary?.assignedTo).toEqual([1]);
    expect(summary?.shift.status).toBe('assigned');
    // Schema 7 gave every shift a priority: normal, as they all were.
    expect(summary?.shift.priority).toBe('normal');
    expect((await upgraded.employees()).find((e) => e.empId === 1)?.assigned).toEqual([7]);
    expect(await upgraded.readJournal({ empId: 1, limit: 10 })).toEqual([
      expect.objectContaining({ shiftId: 7, name: 'x', outcome: '200' }),
    ]);
    await upgraded.close();
    const check = new Database(db, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(8);
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE name = 'assignments'").all();
    expect(tables).toEqual([]);
    // Schema 5 rebuilt shifts and offers (CHECKs without IN lists): every row came along, the
    // indexes are those of a database created new, and the file is consistent.
    expect(rowsOf(check)).toEqual(before);
    expect(before.offers).toHaveLength(2);
    // (Two-value lists stay: SQLite checks those without a temporary table.)
    const tableSql = (name: string) =>
      check.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get(name);
    expect(tableSql('shifts')).not.toMatch(/status IN/);
    expect(tableSql('offers')).not.toMatch(/outcome IN/);
    const fresh = createSqliteStore({ path: join(dir, 'fresh.db') });
    await fresh.close();
    const freshDb = new Database(join(dir, 'fresh.db'), { readonly: true });
    expect(indexesOf(check)).toEqual(indexesOf(freshDb));
    freshDb.close();
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(check.pragma('foreign_key_check')).toEqual([]);
    check.close();
    // The rewritten CHECKs still refuse what the old ones refused.
    const writable = new Database(db);
    expect(() => writable.prepare("UPDATE offers SET outcome = 'lost'").run()).toThrow(
      /CHECK constraint failed/,
    );
    expect(() => writable.prepare("UPDATE shifts SET status = 'gone'").run()).toThrow(
      /CHECK constraint failed/,
    );
    writable.close();
  });

  it('refuses a database from a newer shiftctl with a clear error', () => {
    const raw = new Database(db);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => createSqliteStore({ path: db })).toThrow(/newer shiftctl \(schema 99/);
  });
});
