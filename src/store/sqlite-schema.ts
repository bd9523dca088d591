/**
 * The SQLite store's database file: opening it, taking it for this process alone (the pid
 * file names the holder), its pragmas and migrations, and the checks that it takes writes.
 */
import { readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ShiftctlError } from '../errors.js';

const SCHEMA_VERSION = 8;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE employees (
      id   INTEGER PRIMARY KEY,
      name TEXT,
      role TEXT
    );
    CREATE TABLE shifts (
      id            INTEGER PRIMARY KEY,
      date          TEXT NOT NULL,
      start_time    TEXT NOT NULL,
      end_time      TEXT NOT NULL,
      location_name TEXT,
      client_name   TEXT,
      service_type  TEXT,
      description   TEXT,
      slots         INTEGER NOT NULL DEFAULT 1 CHECK (slots >= 1),
      filled        INTEGER NOT NULL DEFAULT 0 CHECK (filled >= 0 AND filled <= slots),
      status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned')),
      created_at    INTEGER NOT NULL
    );
    CREATE INDEX shifts_status ON shifts (status);
    CREATE TABLE offers (
      shift_id     INTEGER NOT NULL REFERENCES shifts (id),
      emp_id       INTEGER NOT NULL,
      sent_at      INTEGER NOT NULL,
      delivered_at INTEGER,
      answered_at  INTEGER,
      response     TEXT CHECK (response IN ('accepted', 'rejected')),
      outcome      TEXT NOT NULL DEFAULT 'open'
                   CHECK (outcome IN ('open', 'assigned', 'taken', 'rejected')),
      closed_at    INTEGER,
      PRIMARY KEY (shift_id, emp_id)
    ) WITHOUT ROWID;
    CREATE INDEX offers_by_employee ON offers (emp_id, outcome, sent_at);
    CREATE TABLE assignments (
      shift_id    INTEGER NOT NULL REFERENCES shifts (id),
      emp_id      INTEGER NOT NULL,
      assigned_at INTEGER NOT NULL,
      PRIMARY KEY (shift_id, emp_id)
    ) WITHOUT ROWID;
    CREATE INDEX assignments_by_employee ON assignments (emp_id);
  `,
  // Expiry, withdrawal, cascades, approval and the journal. SQLite cannot change a CHECK, so
  // the two tables are rebuilt and their rows copied.
  2: `
    CREATE TABLE shifts_v2 (
      id            INTEGER PRIMARY KEY,
      date          TEXT NOT NULL,
      start_time    TEXT NOT NULL,
      end_time      TEXT NOT NULL,
      location_name TEXT,
      client_name   TEXT,
      service_type  TEXT,
      description   TEXT,
      slots         INTEGER NOT NULL DEFAULT 1 CHECK (slots >= 1),
      filled        INTEGER NOT NULL DEFAULT 0 CHECK (filled >= 0 AND filled <= slots),
      status        TEXT NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'assigned', 'unfilled', 'withdrawn')),
      mode          TEXT NOT NULL DEFAULT 'broadcast' CHECK (mode IN ('broadcast', 'cascade')),
      approval      INTEGER NOT NULL DEFAULT 0 CHECK (approval IN (0, 1)),
      step_ttl_s    INTEGER,
      created_at    INTEGER NOT NULL,
      closed_at     INTEGER
    );
    INSERT INTO shifts_v2 (id, date, start_time, end_time, location_name, client_name,
        service_type, description, slots, filled, status, created_at)
      SELECT id, date, start_time, end_time, location_name, client_name,
        service_type, description, slots, filled, status, created_at FROM shifts;
    CREATE TABLE offers_v2 (
      shift_id     INTEGER NOT NULL REFERENCES shifts (id),
      emp_id       INTEGER NOT NULL,
      position     INTEGER,
      sent_at      INTEGER,
      expires_at   INTEGER,
      delivered_at INTEGER,
      answered_at  INTEGER,
      response     TEXT CHECK (response IN ('accepted', 'rejected')),
      outcome      TEXT NOT NULL DEFAULT 'open' CHECK (outcome IN
                     ('queued', 'open', 'requested', 'assigned', 'taken', 'rejected', 'expired', 'withdrawn')),
      closed_at    INTEGER,
      PRIMARY KEY (shift_id, emp_id)
    ) WITHOUT ROWID;
    INSERT INTO offers_v2 (shift_id, emp_id, sent_at, delivered_at, answered_at, response,
        outcome, closed_at)
      SELECT shift_id, emp_id, sent_at, delivered_at, answered_at, response, outcome, closed_at
      FROM offers;
    DROP TABLE offers;
    DROP TABLE shifts;
    ALTER TABLE shifts_v2 RENAME TO shifts;
    ALTER TABLE offers_v2 RENAME TO offers;
    CREATE INDEX shifts_status ON shifts (status);
    CREATE INDEX offers_by_employee ON offers (emp_id, outcome, sent_at);
    CREATE INDEX offers_by_shift ON offers (shift_id, outcome, position);
    CREATE INDEX offers_by_deadline ON offers (expires_at) WHERE outcome = 'open';
    CREATE TABLE journal (
      id       INTEGER PRIMARY KEY,
      at       INTEGER NOT NULL,
      kind     TEXT NOT NULL CHECK (kind IN ('push', 'request')),
      emp_id   INTEGER,
      shift_id INTEGER,
      name     TEXT NOT NULL,
      outcome  TEXT NOT NULL,
      detail   TEXT
    );
    CREATE INDEX journal_by_employee ON journal (emp_id, id);
    CREATE INDEX journal_by_shift ON journal (shift_id, id);
  `,
  // Fewer index writes per offer: the primary key already leads with shift_id, and only offers
  // with a deadline need to be in the deadline index.
  3: `
    DROP INDEX offers_by_shift;
    DROP INDEX offers_by_deadline;
    CREATE INDEX offers_by_deadline ON offers (expires_at)
      WHERE outcome = 'open' AND expires_at IS NOT NULL;
  `,
  // Fewer writes per offer and per answer; each index entry written costs about as much as the
  // row itself. The journal loses its two indexes (reading it filtered walks it newest first
  // instead). Assignments are the offers whose outcome is 'assigned': the table that repeated
  // them goes. An employee's offers are indexed by time only, so that answering one (a change
  // of outcome) no longer moves its index entry; shifts are no longer indexed by status.
  4: `
    DROP INDEX journal_by_employee;
    DROP INDEX journal_by_shift;
    DROP TABLE assignments;
    DROP INDEX shifts_status;
    DROP INDEX offers_by_employee;
    CREATE INDEX offers_by_employee ON offers (emp_id, sent_at);
  `,
  // The same tables with their CHECKs spelled with OR: SQLite checks `x IN (three or more
  // values)` by building a temporary b-tree of the values, on every row written. Two of those
  // per offer and two per answer were a fifth of the store's time. Rebuilt and copied, as in 2.
  5: `
    CREATE TABLE shifts_v5 (
      id            INTEGER PRIMARY KEY,
      date          TEXT NOT NULL,
      start_time    TEXT NOT NULL,
      end_time      TEXT NOT NULL,
      location_name TEXT,
      client_name   TEXT,
      service_type  TEXT,
      description   TEXT,
      slots         INTEGER NOT NULL DEFAULT 1 CHECK (slots >= 1),
      filled        INTEGER NOT NULL DEFAULT 0 CHECK (filled >= 0 AND filled <= slots),
      status        TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'assigned'
                      OR status = 'unfilled' OR status = 'withdrawn'),
      mode          TEXT NOT NULL DEFAULT 'broadcast' CHECK (mode IN ('broadcast', 'cascade')),
      approval      INTEGER NOT NULL DEFAULT 0 CHECK (approval IN (0, 1)),
      step_ttl_s    INTEGER,
      created_at    INTEGER NOT NULL,
      closed_at     INTEGER
    );
    INSERT INTO shifts_v5 (id, date, start_time, end_time, location_name, client_name,
        service_type, description, slots, filled, status, mode, approval, step_ttl_s,
        created_at, closed_at)
      SELECT id, date, start_time, end_time, location_name, client_name,
        service_type, description, slots, filled, status, mode, approval, step_ttl_s,
        created_at, closed_at FROM shifts;
    CREATE TABLE offers_v5 (
      shift_id     INTEGER NOT NULL REFERENCES shifts (id),
      emp_id       INTEGER NOT NULL,
      position     INTEGER,
      sent_at      INTEGER,
      expires_at   INTEGER,
      delivered_at INTEGER,
      answered_at  INTEGER,
      response     TEXT CHECK (response IN ('accepted', 'rejected')),
      outcome      TEXT NOT NULL DEFAULT 'open' CHECK (outcome = 'queued' OR outcome = 'open'
                     OR outcome = 'requested' OR outcome = 'assigned' OR outcome = 'taken'
                     OR outcome = 'rejected' OR outcome = 'expired' OR outcome = 'withdrawn'),
      closed_at    INTEGER,
      PRIMARY KEY (shift_id, emp_id)
    ) WITHOUT ROWID;
    INSERT INTO offers_v5 (shift_id, emp_id, position, sent_at, expires_at, delivered_at,
        answered_at, response, outcome, closed_at)
      SELECT shift_id, emp_id, position, sent_at, expires_at, delivered_at,
        answered_at, response, outcome, closed_at FROM offers;
    DROP TABLE offers;
    DROP TABLE shifts;
    ALTER TABLE shifts_v5 RENAME TO shifts;
    ALTER TABLE offers_v5 RENAME TO offers;
    CREATE INDEX offers_by_employee ON offers (emp_id, sent_at);
    CREATE INDEX offers_by_deadline ON offers (expires_at)
      WHERE outcome = 'open' AND expires_at IS NOT NULL;
  `,
  // Push fallback (docs/push.md): employees' push tokens, and the webhook pushes of offers that
  // found no device, kept (sent or not) so that an offer is pushed once per token.
  6: `
    CREATE TABLE devices (
      token         TEXT PRIMARY KEY,
      emp_id        INTEGER NOT NULL,
      platform      TEXT NOT NULL CHECK (platform IN ('android', 'ios')),
      registered_at INTEGER NOT NULL,
      seen_at       INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX devices_by_employee ON devices (emp_id, seen_at);
    CREATE TABLE pushes (
      shift_id INTEGER NOT NULL,
      emp_id   INTEGER NOT NULL,
      token    TEXT NOT NULL,
      state    TEXT NOT NULL DEFAULT 'due'
                 CHECK (state IN ('due', 'sending', 'sent', 'failed', 'cancelled')),
      due_at   INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      claim_id TEXT,
      PRIMARY KEY (shift_id, emp_id, token)
    ) WITHOUT ROWID;
    CREATE INDEX pushes_due ON pushes (due_at) WHERE state IN ('due', 'sending');
  `,
  // Priority offers: a shift is `normal` or `urgent`. No index: pending offers are read by
  // employee (offers_by_employee) and the few open ones sorted, urgent first, as they are read.
  7: `
    ALTER TABLE shifts ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal'
      CHECK (priority = 'normal' OR priority = 'urgent');
  `,
  // Stats: shifts by creation time, for a window of them (written once per shift, never
  // moved). Offers get no index: one written with every offer would tax the hot path, and the
  // stats walk the offers of each shift along their primary key.
  8: `
    CREATE INDEX shifts_by_created ON shifts (created_at);
  `,
};

/** The file beside a database that names the process serving it (the lock is the truth). */
const pidFileOf = (path: string): string => `${path}.pid`;

/** The live process named in the database's pid file, if any. */
function holderOf(path: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFileOf(path), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

const isBusy = (err: unknown): boolean =>
  err instanceof Database.SqliteError &&
  (err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED'));

/**
 * Takes the database file for this process alone (`locking_mode=EXCLUSIVE`): a second server on
 * the same file would split the live state, each telling its own listeners. WAL in exclusive
 * mode keeps its index in memory, so there is no `-shm` file. Fails at once, naming the holder,
 * when another process has the file.
 */
function lockDatabase(db: Database.Database, path: string): void {
  // No waiting: a start must not hang on another's lock, and once the lock is ours nothing
  // else can hold it.
  db.pragma('busy_timeout = 0');
  db.pragma('locking_mode = EXCLUSIVE');
  try {
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    if (!isBusy(err)) throw err;
    const pid = holderOf(path);
    throw new ShiftctlError(
      'E_DATABASE_IN_USE',
      `The database ${path} is in use by ${pid === undefined ? 'another program' : `another shiftctl serve (pid ${pid})`}; stop it, or use another database file.`,
    );
  }
  try {
    writeFileSync(pidFileOf(path), `${process.pid}\n`);
  } catch {
    // Only the error message of a second server would miss it.
  }
}

export function unlockDatabase(path: string): void {
  try {
    if (readFileSync(pidFileOf(path), 'utf8').trim() === String(process.pid)) {
      rmSync(pidFileOf(path), { force: true });
    }
  } catch {
    // Gone already, or never written.
  }
}

/** A driver error a client can be told about (a full disk, a lock held elsewhere), as one. */
export function storageError(err: unknown): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (err.code === 'SQLITE_FULL') {
    return new ShiftctlError(
      'E_STORAGE_FULL',
      'The database is full (no space left on its disk): nothing was written. Try again once space is freed.',
    );
  }
  if (isBusy(err)) {
    return new ShiftctlError(
      'E_DATABASE_BUSY',
      'The database is locked by another program: nothing was written. Try again shortly.',
    );
  }
  return err;
}

/** Free bytes below which a file database is not ready for writes (a WAL commit needs room). */
const MIN_FREE_BYTES = 1024 * 1024;

function openDatabase(path: string): Database.Database {
  try {
    return new Database(path);
  } catch (err) {
    throw new ShiftctlError(
      'E_DATABASE',
      `Cannot open the database at ${path}: ${(err as Error).message}`,
    );
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new ShiftctlError(
      'E_DATABASE',
      `The database was written by a newer shiftctl (schema ${current}, this one knows ${SCHEMA_VERSION}).`,
    );
  }
  // Rebuilding tables needs foreign keys off (they cannot be switched inside a transaction).
  db.pragma('foreign_keys = OFF');
  for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v}`);
    })();
  }
  db.pragma('foreign_keys = ON');
}

/** Whether the path names a file (not a throwaway database in memory). */
export const isOnDisk = (path: string): boolean => path !== ':memory:' && path !== '';

/**
 * Opens (and creates or migrates) the database: taken for this process when on disk, in WAL
 * mode, with the durability asked for.
 */
export function openSqlite(
  path: string,
  durability: 'normal' | 'full' | undefined,
): Database.Database {
  const db = openDatabase(path);
  try {
    if (isOnDisk(path)) lockDatabase(db, path);
    else db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof ShiftctlError) throw err;
    throw new ShiftctlError(
      'E_DATABASE',
      `Cannot use the database at ${path}: ${(err as Error).message}`,
    );
  }
  return db;
}

/**
 * The store's `checkWritable`: a probe write, rolled back, and (for a file) the free space of
 * its disk.
 */
export function writableCheck(db: Database.Database, path: string): () => void {
  const onDisk = isOnDisk(path);
  /** Rolls a probe write back once it has been made (or throws what stopped it). */
  const PROBE_DONE = Symbol('probe done');
  const probeWrite = db.transaction(() => {
    // A row bigger than a page needs new pages, as the next real write may.
    db.prepare(
      'INSERT INTO journal (at, kind, name, outcome, detail) VALUES (0, ?, ?, ?, zeroblob(?))',
    ).run('request', 'probe', 'probe', 2 * (db.pragma('page_size', { simple: true }) as number));
    throw PROBE_DONE;
  });
  function checkWritable(): void {
    try {
      probeWrite();
    } catch (err) {
      if (err !== PROBE_DONE) throw err;
    }
    if (!onDisk) return;
    // A commit appends to the WAL file, which the probe (rolled back) never reached.
    const fs = statfsSync(dirname(path));
    if (fs.bavail * fs.bsize < MIN_FREE_BYTES) {
      throw new ShiftctlError(
        'E_STORAGE_FULL',
        `The disk of the database ${path} has less than 1 MiB free.`,
      );
    }
  }
  return checkWritable;
}
