/**
 * The embedded SQLite store: the only module that imports the database driver.
 *
 * Durability: WAL journal with synchronous=NORMAL. A transaction is in the WAL file, handed to
 * the operating system, before its statement returns, so anything the server acknowledged
 * survives the process being killed (`kill -9`). `durability: 'full'` also survives a power
 * cut, at the cost of an fsync per commit.
 */
import { readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ShiftctlError } from '../errors.js';
import {
  detailsOf,
  type Outcome,
  type ShiftDetails,
  type ShiftStatus,
} from '../protocol/schemas.js';
import {
  detailColumns,
  JOINED_COLUMNS,
  type JoinedRow,
  OFFER_COLUMNS,
  type OfferRow,
  SHIFT_COLUMNS,
  type ShiftRow,
  toOffer,
  toOffered,
  toShift,
} from './rows.js';
import type {
  ClaimResult,
  Closed,
  Employee,
  EmployeeSummary,
  JournalInput,
  JournalLimits,
  NewShift,
  OfferRecord,
  OfferWrite,
  ShiftRecord,
  ShiftSummary,
  Store,
} from './types.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a throwaway database. */
  path: string;
  /** `normal` survives a crash of the process; `full` also survives a crash of the machine. */
  durability?: 'normal' | 'full';
  /** Where the store reports trouble no caller hears of (journal lines it had to drop). */
  warn?: (message: string, fields?: Record<string, unknown>) => void;
}

/** The SQLite store, with a handle tests use to fill its "disk". */
export interface SqliteStore extends Store {
  /**
   * For tests only: caps the database at its current size plus `pages` pages (SQLite's
   * `max_page_count`), so that writes fail as on a full disk; `null` lifts the cap.
   */
  limitPages(pages: number | null): void;
}

const SCHEMA_VERSION = 5;
/** Journal lines written by one statement. */
const JOURNAL_CHUNK = 16;

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

function unlockDatabase(path: string): void {
  try {
    if (readFileSync(pidFileOf(path), 'utf8').trim() === String(process.pid)) {
      rmSync(pidFileOf(path), { force: true });
    }
  } catch {
    // Gone already, or never written.
  }
}

/** A driver error a client can be told about (a full disk, a lock held elsewhere), as one. */
function storageError(err: unknown): unknown {
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

/** Opens (and creates or migrates) a SQLite database and returns the store over it. */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const db = openDatabase(options.path);
  const onDisk = options.path !== ':memory:' && options.path !== '';
  try {
    if (onDisk) lockDatabase(db, options.path);
    else db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof ShiftctlError) throw err;
    throw new ShiftctlError(
      'E_DATABASE',
      `Cannot use the database at ${options.path}: ${(err as Error).message}`,
    );
  }

  const stmt = {
    anyShift: db.prepare('SELECT 1 FROM shifts LIMIT 1').pluck(),
    upsertEmployee: db.prepare(
      'INSERT INTO employees (id, name, role) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = COALESCE(excluded.name, name), role = COALESCE(excluded.role, role)',
    ),
    // Hot writes use positional parameters and no RETURNING: here RETURNING costs more than
    // the insert itself, and reading a row back costs more than building it from what was
    // written (measured in BENCHMARKS.md).
    insertShift: db.prepare(`
      INSERT INTO shifts (id, date, start_time, end_time, location_name, client_name, service_type,
        description, slots, mode, approval, step_ttl_s, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO NOTHING`),
    // The id for a shift created without one: one past the largest (as SQLite would choose),
    // unless that is past 2^53 - 1, where JSON clients lose precision; then the lowest free id.
    nextShiftId: db.prepare('SELECT COALESCE(MAX(id), 0) + 1 FROM shifts').pluck(),
    lowestFreeShiftId: db
      .prepare(`
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM shifts WHERE id = 1) THEN 1
          ELSE (SELECT MIN(s.id) + 1 FROM shifts s
                WHERE NOT EXISTS (SELECT 1 FROM shifts t WHERE t.id = s.id + 1)) END`)
      .pluck(),
    getShift: db.prepare(`SELECT ${SHIFT_COLUMNS} FROM shifts s WHERE s.id = ?`),
    // Offers are inserted only for an open shift, in the same statement as the check: the
    // shift's id comes twice (last), for the check.
    insertOffer: db.prepare(`
      INSERT INTO offers (shift_id, emp_id, position, sent_at, expires_at, outcome)
      SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM shifts WHERE id = ? AND status = 'open')
      ON CONFLICT DO NOTHING`),
    // The offer of a shift the same write created (the test endpoint's new shift): no check.
    insertFirstOffer: db.prepare(`
      INSERT INTO offers (shift_id, emp_id, position, sent_at, expires_at, outcome)
      VALUES (?, ?, NULL, ?, ?, 'open')`),
    // Many employees at once (a broadcast): one statement.
    insertOffers: db.prepare(`
      INSERT INTO offers (shift_id, emp_id, position, sent_at, expires_at, outcome)
      SELECT ?, value, NULL, ?, ?, 'open' FROM json_each(?)
      WHERE EXISTS (SELECT 1 FROM shifts WHERE id = ? AND status = 'open')
      ON CONFLICT DO NOTHING`),
    shiftStatus: db.prepare('SELECT status FROM shifts WHERE id = ?').pluck(),
    lastPosition: db
      .prepare('SELECT COALESCE(MAX(position), 0) FROM offers WHERE shift_id = ?')
      .pluck(),
    getOffer: db.prepare(
      `SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.shift_id = ? AND o.emp_id = ?`,
    ),
    offersForShift: db.prepare(
      `SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.shift_id = ? ORDER BY o.position, o.sent_at, o.emp_id`,
    ),
    openOffersFor: db.prepare(`
      SELECT ${JOINED_COLUMNS} FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.emp_id = ? AND o.outcome = 'open' AND s.status = 'open'
      ORDER BY o.sent_at, o.shift_id`),
    history: db.prepare(`
      SELECT ${JOINED_COLUMNS} FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.emp_id = ? AND o.sent_at IS NOT NULL
      ORDER BY o.sent_at DESC, o.shift_id DESC LIMIT ?`),
    // An answer is recorded once, on an offer that was sent and not closed by its deadline or a
    // withdrawal; an open offer past its deadline counts as expired even before its timer runs.
    // (An offer closed because the shift went to others is still answered: it was taken.)
    reject: db.prepare(`
      UPDATE offers SET response = 'rejected', answered_at = @at,
        outcome = CASE WHEN outcome = 'open' THEN 'rejected' ELSE outcome END,
        closed_at = COALESCE(closed_at, @at)
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND response IS NULL AND sent_at IS NOT NULL
        AND outcome <> 'queued' AND outcome <> 'expired' AND outcome <> 'withdrawn'
        AND (outcome <> 'open' OR expires_at IS NULL OR expires_at > @at)
      RETURNING outcome`),
    // The usual rejection: an open offer within its deadline.
    rejectOpen: db.prepare(`
      UPDATE offers SET response = 'rejected', answered_at = ?, outcome = 'rejected', closed_at = ?
      WHERE shift_id = ? AND emp_id = ? AND response IS NULL AND sent_at IS NOT NULL
        AND outcome = 'open' AND (expires_at IS NULL OR expires_at > ?)`),
    // The usual acceptance, in two writes: an open offer within its deadline, of an open shift
    // with a slot left and no approval step, takes the slot; then the offer records it. Taking
    // the last slot and taking another are two statements, so that which one changed a row says
    // whether the shift is now full without reading it back.
    takeLastSlotFor: db.prepare(`
      UPDATE shifts SET filled = filled + 1, status = 'assigned', closed_at = ?
      WHERE id = ? AND status = 'open' AND filled + 1 = slots AND approval = 0
        AND EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = ? AND o.emp_id = ?
          AND o.response IS NULL AND o.sent_at IS NOT NULL AND o.outcome = 'open'
          AND (o.expires_at IS NULL OR o.expires_at > ?))`),
    takeSlotFor: db.prepare(`
      UPDATE shifts SET filled = filled + 1
      WHERE id = ? AND status = 'open' AND filled + 1 < slots AND approval = 0
        AND EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = ? AND o.emp_id = ?
          AND o.response IS NULL AND o.sent_at IS NOT NULL AND o.outcome = 'open'
          AND (o.expires_at IS NULL OR o.expires_at > ?))`),
    acceptWon: db.prepare(`
      UPDATE offers SET response = 'accepted', answered_at = ?, outcome = 'assigned', closed_at = ?
      WHERE shift_id = ? AND emp_id = ?`),
    // A late acceptance: the shift went to someone else first (the losers of a race).
    acceptTaken: db.prepare(`
      UPDATE offers SET response = 'accepted', answered_at = ?
      WHERE shift_id = ? AND emp_id = ? AND response IS NULL AND sent_at IS NOT NULL
        AND outcome = 'taken'`),
    recordAccept: db.prepare(`
      UPDATE offers SET response = 'accepted', answered_at = @at
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND response IS NULL AND sent_at IS NOT NULL
        AND outcome <> 'queued' AND outcome <> 'expired' AND outcome <> 'withdrawn'
        AND (outcome <> 'open' OR expires_at IS NULL OR expires_at > @at)`),
    // What a recorded acceptance found: the offer's outcome and whether the shift needs approval.
    acceptedState: db
      .prepare(`
        SELECT o.outcome, s.approval FROM offers o JOIN shifts s ON s.id = o.shift_id
        WHERE o.shift_id = ? AND o.emp_id = ?`)
      .raw(),
    takeSlot: db.prepare(`
      UPDATE shifts SET filled = filled + 1,
        status = CASE WHEN filled + 1 >= slots THEN 'assigned' ELSE status END,
        closed_at = CASE WHEN filled + 1 >= slots THEN @at ELSE closed_at END
      WHERE id = @id AND status = 'open' AND filled < slots
      RETURNING status`),
    setOutcome: db.prepare(
      'UPDATE offers SET outcome = ?, closed_at = ? WHERE shift_id = ? AND emp_id = ?',
    ),
    // An approval takes a slot of the open shift only for a request still standing: the check
    // and the write are one statement, as a claim's are.
    approveSlot: db.prepare(`
      UPDATE shifts SET filled = filled + 1,
        status = CASE WHEN filled + 1 >= slots THEN 'assigned' ELSE status END,
        closed_at = CASE WHEN filled + 1 >= slots THEN @at ELSE closed_at END
      WHERE id = @id AND status = 'open' AND filled < slots
        AND EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = @id AND o.emp_id = @emp_id
          AND o.outcome = 'requested')
      RETURNING status`),
    turnDownRequest: db.prepare(`
      UPDATE offers SET outcome = 'taken', closed_at = ?
      WHERE shift_id = ? AND emp_id = ? AND outcome = 'requested'`),
    // The shift is full: every offer still open, requested or queued is taken (a withdrawal has
    // its own statements). Read first (a full shift usually has none left) and written only when
    // there are some.
    // (Spelled with OR: a list after IN builds a temporary table on every run.)
    restOpen: db
      .prepare(`
        SELECT emp_id, sent_at IS NOT NULL FROM offers
        WHERE shift_id = ? AND (outcome = 'open' OR outcome = 'requested' OR outcome = 'queued')`)
      .raw(),
    closeRest: db.prepare(`
      UPDATE offers SET outcome = 'taken', closed_at = ?
      WHERE shift_id = ? AND (outcome = 'open' OR outcome = 'requested' OR outcome = 'queued')`),
    expireDue: db.prepare(`
      UPDATE offers SET outcome = 'expired', closed_at = expires_at
      WHERE outcome = 'open' AND expires_at <= ? RETURNING shift_id, emp_id`),
    nextDeadline: db
      .prepare(
        `SELECT MIN(expires_at) FROM offers WHERE outcome = 'open' AND expires_at IS NOT NULL`,
      )
      .pluck(),
    nextQueued: db.prepare(`
      SELECT emp_id FROM offers WHERE shift_id = ? AND outcome = 'queued'
      ORDER BY position LIMIT 1`),
    // A cascade moves on only while its shift is open and nobody holds it: each step, and the
    // end of the list, is decided and written by one statement.
    openStep: db.prepare(`
      UPDATE offers SET outcome = 'open', sent_at = @at, expires_at = @expires_at
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND outcome = 'queued'
        AND EXISTS (SELECT 1 FROM shifts WHERE id = @shift_id AND status = 'open')
        AND NOT EXISTS (SELECT 1 FROM offers h WHERE h.shift_id = @shift_id
          AND (h.outcome = 'open' OR h.outcome = 'requested'))`),
    closeUnfilled: db.prepare(`
      UPDATE shifts SET status = 'unfilled', closed_at = @at WHERE id = @shift_id AND status = 'open'
        AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = @shift_id
          AND (o.outcome = 'open' OR o.outcome = 'requested' OR o.outcome = 'queued'))`),
    closeShift: db.prepare(
      `UPDATE shifts SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'`,
    ),
    // A withdrawal cancels the shift's assignments too (a shift with slots left can have some):
    // no slot stays filled, and every offer not answered for good closes with those assigned.
    withdrawShift: db.prepare(
      `UPDATE shifts SET status = 'withdrawn', filled = 0, closed_at = ? WHERE id = ? AND status = 'open'`,
    ),
    withdrawOffers: db
      .prepare(`
        UPDATE offers SET outcome = 'withdrawn', closed_at = ?
        WHERE shift_id = ? AND (outcome = 'open' OR outcome = 'requested' OR outcome = 'queued'
          OR outcome = 'assigned')
        RETURNING emp_id, sent_at IS NOT NULL`)
      .raw(),
    markDelivered: db.prepare(`
      UPDATE offers SET delivered_at = ?
      WHERE shift_id = ? AND emp_id = ? AND delivered_at IS NULL`),
    markDeliveredMany: db.prepare(`
      UPDATE offers SET delivered_at = ?
      WHERE shift_id = ? AND delivered_at IS NULL AND emp_id IN (SELECT value FROM json_each(?))`),
    pendingCounts: db.prepare(`
      SELECT o.emp_id AS emp_id, COUNT(*) AS n FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.outcome = 'open' AND s.status = 'open' GROUP BY o.emp_id`),
    listShifts: db.prepare(`
      SELECT ${SHIFT_COLUMNS},
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id) AS n_total,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'queued') AS n_queued,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'open') AS n_open,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'requested') AS n_requested,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.response = 'accepted') AS n_accepted,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.response = 'rejected') AS n_rejected,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'expired') AS n_expired,
        (SELECT json_group_array(o.emp_id) FROM offers o
          WHERE o.shift_id = s.id AND o.outcome = 'assigned') AS assigned_to
      FROM shifts s WHERE (@status IS NULL OR s.status = @status) AND (@id IS NULL OR s.id = @id)
      ORDER BY s.date, s.start_time, s.id`),
    employees: db.prepare(`
      WITH ids AS (
        SELECT id AS emp_id FROM employees UNION SELECT emp_id FROM offers
      )
      SELECT ids.emp_id AS emp_id, e.name AS name,
        (SELECT json_group_array(o.shift_id) FROM offers o JOIN shifts s ON s.id = o.shift_id
          WHERE o.emp_id = ids.emp_id AND o.outcome = 'open' AND s.status = 'open') AS pending,
        (SELECT json_group_array(o.shift_id) FROM offers o
          WHERE o.emp_id = ids.emp_id AND o.outcome = 'assigned') AS assigned
      FROM ids LEFT JOIN employees e ON e.id = ids.emp_id ORDER BY ids.emp_id`),
    insertJournal: db.prepare(`
      INSERT INTO journal (at, kind, emp_id, shift_id, name, outcome, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    // Lines a tick queued, JOURNAL_CHUNK at a time: a row costs half as much as on its own.
    insertJournalChunk: db.prepare(`
      INSERT INTO journal (at, kind, emp_id, shift_id, name, outcome, detail)
      VALUES ${Array(JOURNAL_CHUNK).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`),
    // One statement for a push to many employees: a row each, in the order given.
    insertJournalMany: db.prepare(`
      INSERT INTO journal (at, kind, emp_id, shift_id, name, outcome, detail)
      SELECT ?, ?, value, ?, ?, ?, ? FROM json_each(?) ORDER BY key`),
    // The newest entries (read back oldest first), walking the journal from its end; or, when
    // following, the next ones after an id.
    newestJournal: db.prepare(`
      SELECT * FROM (
        SELECT id, at, kind, emp_id, shift_id, name, outcome, detail FROM journal
        WHERE (@emp_id IS NULL OR emp_id = @emp_id) AND (@shift_id IS NULL OR shift_id = @shift_id)
          AND (@kind IS NULL OR kind = @kind)
        ORDER BY id DESC LIMIT @limit
      ) ORDER BY id`),
    journalAfter: db.prepare(`
      SELECT id, at, kind, emp_id, shift_id, name, outcome, detail FROM journal
      WHERE id > @after_id AND (@emp_id IS NULL OR emp_id = @emp_id)
        AND (@shift_id IS NULL OR shift_id = @shift_id) AND (@kind IS NULL OR kind = @kind)
      ORDER BY id LIMIT @limit`),
    journalEnds: db.prepare('SELECT MIN(id) AS first, MAX(id) AS last FROM journal'),
    // The oldest lines, up to an id: those past the row cap or older than the age limit. Lines
    // are in time order, so the oldest ids are the oldest lines, found on the primary key with
    // no index on `at` for every journal insert to keep up.
    trimJournal: db.prepare(`
      DELETE FROM journal WHERE id <= @upto AND (id <= @cap OR at < @before)`),
  };

  /** An offer row as it was just inserted, without reading it back. */
  function newOffer(
    shiftId: number,
    empId: number,
    position: number | null,
    sentAt: number | null,
    expiresAt: number | null,
    outcome: Outcome,
  ): OfferRecord {
    return {
      shiftId,
      empId,
      position,
      sentAt,
      expiresAt,
      deliveredAt: null,
      answeredAt: null,
      response: null,
      outcome,
    };
  }

  function readOffer(shiftId: number, empId: number): OfferRecord {
    return toOffer(stmt.getOffer.get(shiftId, empId) as OfferRow);
  }

  /**
   * Inserts offers of an open shift; with `queued`, as the next steps of a cascade. Each insert
   * checks that the shift is open, so when every row went in (the usual case) nothing is read.
   * When some did not, the shift is either closed, and then none did (nothing else writes while
   * this runs), or open with those employees already holding an offer, which they keep.
   */
  function addOffers(
    shiftId: number,
    empIds: readonly number[],
    at: number,
    options: { expiresAt?: number | null | undefined; queued?: boolean },
  ): OfferWrite {
    const inserted: Array<OfferRecord | undefined> = [];
    let missed = empIds.length === 0;
    if (options.queued === true) {
      let position = stmt.lastPosition.get(shiftId) as number;
      for (const empId of empIds) {
        const next = position + 1;
        if (stmt.insertOffer.run(shiftId, empId, next, null, null, 'queued', shiftId).changes) {
          position = next;
          inserted.push(newOffer(shiftId, empId, next, null, null, 'queued'));
        } else {
          inserted.push(undefined);
          missed = true;
        }
      }
    } else {
      const expiresAt = options.expiresAt ?? null;
      if (empIds.length > 8) {
        const list = JSON.stringify(empIds);
        const { changes } = stmt.insertOffers.run(shiftId, at, expiresAt, list, shiftId);
        if (changes === empIds.length) {
          const offers = empIds.map((empId) =>
            newOffer(shiftId, empId, null, at, expiresAt, 'open'),
          );
          return { offered: true, offers };
        }
        // Which rows went in is not known: the offers are read back below.
        missed = true;
      } else {
        for (const empId of empIds) {
          if (stmt.insertOffer.run(shiftId, empId, null, at, expiresAt, 'open', shiftId).changes) {
            inserted.push(newOffer(shiftId, empId, null, at, expiresAt, 'open'));
          } else {
            inserted.push(undefined);
            missed = true;
          }
        }
      }
    }
    if (missed) {
      const status = stmt.shiftStatus.get(shiftId) as ShiftStatus | undefined;
      if (status !== 'open') return { offered: false, status };
      const now = new Map(
        (stmt.offersForShift.all(shiftId) as OfferRow[]).map((r) => [r.emp_id, toOffer(r)]),
      );
      const offers = empIds.map((empId, i) => inserted[i] ?? (now.get(empId) as OfferRecord));
      return { offered: true, offers };
    }
    return { offered: true, offers: inserted as OfferRecord[] };
  }

  /**
   * The shift filled: every offer of it still open, requested or queued is taken; returns those
   * who held one (it was sent) to be told. Those queued behind a cascade never knew of it.
   */
  function closeRest(shiftId: number, at: number): number[] {
    const rows = stmt.restOpen.all(shiftId) as Array<[number, 0 | 1]>;
    if (rows.length === 0) return [];
    stmt.closeRest.run(at, shiftId);
    return rows.filter(([, held]) => held === 1).map(([empId]) => empId);
  }

  /** An assignment was recorded: when it filled the shift, the other offers close. */
  function assigned(shiftId: number, at: number, shiftFilled: boolean): ClaimResult {
    const closed = shiftFilled ? closeRest(shiftId, at) : [];
    return { recorded: true, outcome: 'assigned', shiftFilled, closed };
  }

  /** Gives this employee a slot if one is left; closes the others when the shift fills. */
  function takeSlot(shiftId: number, empId: number, at: number): ClaimResult {
    const slot = stmt.takeSlot.get({ id: shiftId, at }) as { status: ShiftStatus } | undefined;
    if (!slot) {
      stmt.setOutcome.run('taken', at, shiftId, empId);
      return { recorded: true, outcome: 'taken', shiftFilled: true, closed: [] };
    }
    stmt.setOutcome.run('assigned', at, shiftId, empId);
    return assigned(shiftId, at, slot.status === 'assigned');
  }

  function claim(shiftId: number, empId: number, at: number): ClaimResult {
    // The usual case first: an open offer wins a free slot of a shift without approval.
    const full = stmt.takeLastSlotFor.run(at, shiftId, shiftId, empId, at).changes === 1;
    if (full || stmt.takeSlotFor.run(shiftId, shiftId, empId, at).changes === 1) {
      stmt.acceptWon.run(at, at, shiftId, empId);
      return assigned(shiftId, at, full);
    }
    if (stmt.acceptTaken.run(at, shiftId, empId).changes === 1) {
      return { recorded: true, outcome: 'taken', shiftFilled: true, closed: [] };
    }
    if (stmt.recordAccept.run({ shift_id: shiftId, emp_id: empId, at }).changes === 0) {
      return { recorded: false };
    }
    const [outcome, approval] = stmt.acceptedState.get(shiftId, empId) as [Outcome, 0 | 1];
    // An offer already closed (the shift went to others) cannot win, whatever the shift says.
    if (outcome !== 'open') {
      return { recorded: true, outcome, shiftFilled: true, closed: [] };
    }
    if (approval === 1) {
      stmt.setOutcome.run('requested', null, shiftId, empId);
      return { recorded: true, outcome: 'requested', shiftFilled: false, closed: [] };
    }
    return takeSlot(shiftId, empId, at);
  }

  function reject(shiftId: number, empId: number, at: number): Outcome | undefined {
    if (stmt.rejectOpen.run(at, at, shiftId, empId, at).changes === 1) return 'rejected';
    const row = stmt.reject.get({ shift_id: shiftId, emp_id: empId, at }) as
      | { outcome: Outcome }
      | undefined;
    return row?.outcome;
  }

  function approve(shiftId: number, empId: number, at: number): ClaimResult | undefined {
    const slot = stmt.approveSlot.get({ id: shiftId, emp_id: empId, at }) as
      | { status: ShiftStatus }
      | undefined;
    if (slot) {
      stmt.setOutcome.run('assigned', at, shiftId, empId);
      return assigned(shiftId, at, slot.status === 'assigned');
    }
    // No slot for a standing request (a shift closes its requests as it fills, so this is rare).
    if (stmt.turnDownRequest.run(at, shiftId, empId).changes === 1) {
      return { recorded: true, outcome: 'taken', shiftFilled: true, closed: [] };
    }
    return undefined;
  }

  function expireDue(now: number): Closed[] {
    const rows = stmt.expireDue.all(now) as Array<{ shift_id: number; emp_id: number }>;
    const byShift = new Map<number, number[]>();
    for (const r of rows) {
      const same = byShift.get(r.shift_id);
      if (same) same.push(r.emp_id);
      else byShift.set(r.shift_id, [r.emp_id]);
    }
    return [...byShift].map(([shiftId, empIds]) => ({ shiftId, empIds }));
  }

  function advanceCascade(
    shiftId: number,
    at: number,
    fallbackTtlS?: number,
  ): OfferRecord | undefined {
    const shift = stmt.getShift.get(shiftId) as ShiftRow | undefined;
    if (shift?.status !== 'open' || shift.mode !== 'cascade') return undefined;
    const next = stmt.nextQueued.get(shiftId) as { emp_id: number } | undefined;
    if (!next) {
      stmt.closeUnfilled.run({ at, shift_id: shiftId });
      return undefined;
    }
    const ttl = shift.step_ttl_s ?? fallbackTtlS;
    const expiresAt = ttl === undefined ? null : at + ttl * 1000;
    const step = { shift_id: shiftId, emp_id: next.emp_id, at, expires_at: expiresAt };
    if (stmt.openStep.run(step).changes !== 1) return undefined;
    return readOffer(shiftId, next.emp_id);
  }

  function withdraw(shiftId: number, at: number): number[] | undefined {
    if (stmt.withdrawShift.run(at, shiftId).changes !== 1) return undefined;
    const rows = stmt.withdrawOffers.all(at, shiftId) as Array<[number, 0 | 1]>;
    // Those queued behind a cascade never knew of the shift.
    return rows.filter(([, told]) => told === 1).map(([empId]) => empId);
  }

  function upsertEmployees(employees: Employee[]): void {
    for (const e of employees) stmt.upsertEmployee.run(e.id, e.name ?? null, e.role ?? null);
  }

  function reset(at: number): void {
    const lastId = db.prepare('SELECT COALESCE(MAX(id), 0) FROM journal').pluck().get() as number;
    for (const table of ['journal', 'offers', 'shifts', 'employees']) {
      db.prepare(`DELETE FROM ${table}`).run();
    }
    // Journal ids keep growing across a reset (a follower asks for ids after the last it saw):
    // a marker keeps the highest id in the table.
    stmt.insertJournal.run(at, 'request', null, null, 'reset: journal cleared', 'cleared', null);
    db.prepare('UPDATE journal SET id = ? WHERE id = (SELECT MAX(id) FROM journal)').run(
      lastId + 1,
    );
  }

  /** Deletes up to `max` of the oldest journal lines beyond the limits; never the newest. */
  function trimJournal(limits: JournalLimits, max: number): number {
    const ends = stmt.journalEnds.get() as { first: number | null; last: number | null };
    if (ends.first === null || ends.last === null) return 0;
    // The newest line stays: ids continue from it (a follower reads after the last it saw).
    const upto = Math.min(ends.first + max - 1, ends.last - 1);
    return stmt.trimJournal.run({
      upto,
      cap: limits.maxRows === undefined ? 0 : ends.last - limits.maxRows,
      before: limits.before ?? Number.MIN_SAFE_INTEGER,
    }).changes;
  }

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
    const fs = statfsSync(dirname(options.path));
    if (fs.bavail * fs.bsize < MIN_FREE_BYTES) {
      throw new ShiftctlError(
        'E_STORAGE_FULL',
        `The disk of the database ${options.path} has less than 1 MiB free.`,
      );
    }
  }

  // Group commit. Every write of a turn of the event loop runs in one transaction, and its
  // promise resolves only after that transaction has committed: nothing is acknowledged before
  // it is in the WAL, and a busy server pays one commit per tick instead of one per request.
  // A write that fails does not undo the others: the batch is rolled back and run again with
  // each write in a savepoint of its own (the slow path, taken only when a write throws).
  // Delivery marks and journal lines ride along; they are bookkeeping, not acknowledgements.
  interface Op {
    run: () => unknown;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
    result?: unknown;
    error?: unknown;
    failed?: boolean;
  }
  /** Thrown inside a batch to roll it back when one of its writes failed. */
  const RETRY_ONE_BY_ONE = Symbol('retry one by one');
  let ops: Op[] = [];
  /** Delivery marks, one entry per push: [shift, time, employees]. */
  let deliveredQueue: Array<[number, number, readonly number[]]> = [];
  let journalQueue: JournalInput[] = [];
  let flushScheduled = false;
  function bookkeeping(
    delivered: Array<[number, number, readonly number[]]>,
    journal: JournalInput[],
  ): void {
    for (const [shiftId, at, empIds] of delivered) {
      if (empIds.length === 1) stmt.markDelivered.run(at, shiftId, empIds[0]);
      else stmt.markDeliveredMany.run(at, shiftId, JSON.stringify(empIds));
    }
    // Lines for one employee each wait in `values` and go JOURNAL_CHUNK to a statement; a line
    // for many employees writes those waiting first, so that ids keep the order of events.
    const values: unknown[] = [];
    const writeWaiting = () => {
      let i = 0;
      for (; i + JOURNAL_CHUNK * 7 <= values.length; i += JOURNAL_CHUNK * 7) {
        stmt.insertJournalChunk.run(values.slice(i, i + JOURNAL_CHUNK * 7));
      }
      for (; i < values.length; i += 7) stmt.insertJournal.run(values.slice(i, i + 7));
      values.length = 0;
    };
    for (const e of journal) {
      const detail = e.detail === undefined || e.detail === null ? null : JSON.stringify(e.detail);
      if (e.empIds && e.empIds.length !== 1) {
        writeWaiting();
        const empIds = JSON.stringify(e.empIds);
        stmt.insertJournalMany.run(e.at, e.kind, e.shiftId, e.name, e.outcome, detail, empIds);
      } else {
        const empId = e.empIds ? e.empIds[0] : e.empId;
        values.push(e.at, e.kind, empId, e.shiftId, e.name, e.outcome, detail);
      }
    }
    writeWaiting();
  }
  const inSavepoint = db.transaction((run: () => unknown) => run());
  /** Thrown when bookkeeping failed in a way that undid the whole transaction. */
  const RETRY_WITHOUT_BOOKKEEPING = Symbol('retry without bookkeeping');
  const bookkeepingInSavepoint = db.transaction(bookkeeping);
  /** Lines and marks dropped since bookkeeping last failed (0 while it works). */
  let dropped = 0;
  /** Why the last bookkeeping that undid its transaction failed. */
  let bookkeepingError: unknown;
  function dropBookkeeping(lines: number, err: unknown): void {
    if (dropped === 0) {
      options.warn?.(
        'journal lines and delivery marks cannot be written; dropping them until the database takes writes again',
        { error: err instanceof Error ? err.message : String(err) },
      );
    }
    dropped += lines;
  }
  /**
   * Writes the bookkeeping in a savepoint of its own: when it fails (a full disk), it is
   * dropped, and the writes it rode along with are still committed.
   */
  function keepBooks(
    delivered: Array<[number, number, readonly number[]]>,
    journal: JournalInput[],
  ): void {
    if (delivered.length === 0 && journal.length === 0) return;
    try {
      bookkeepingInSavepoint(delivered, journal);
    } catch (err) {
      // SQLite may undo the whole transaction on a full disk: then nothing here was written.
      if (!db.inTransaction) {
        bookkeepingError = err;
        throw RETRY_WITHOUT_BOOKKEEPING;
      }
      dropBookkeeping(delivered.length + journal.length, err);
      return;
    }
    if (dropped > 0) {
      options.warn?.('journal lines and delivery marks are written again', { dropped });
      dropped = 0;
    }
  }
  /** Runs a batch in one transaction; `oneByOne` gives each write a savepoint of its own. */
  const runBatch = db.transaction(
    (
      batch: Op[],
      delivered: Array<[number, number, readonly number[]]>,
      journal: JournalInput[],
      oneByOne: boolean,
    ) => {
      for (const op of batch) {
        try {
          op.result = oneByOne ? inSavepoint(op.run) : op.run();
        } catch (err) {
          if (!oneByOne) throw RETRY_ONE_BY_ONE;
          // The whole transaction was undone (SQLite may do so on a full disk): every write of
          // the batch fails, none half-made.
          if (!db.inTransaction) throw err;
          op.failed = true;
          op.error = storageError(err);
        }
      }
      keepBooks(delivered, journal);
    },
  );
  /** Runs a batch, one write at a time after a failure, without bookkeeping if that fails. */
  function commitBatch(
    batch: Op[],
    delivered: Array<[number, number, readonly number[]]>,
    journal: JournalInput[],
  ): void {
    let oneByOne = false;
    for (;;) {
      try {
        runBatch(batch, delivered, journal, oneByOne);
        return;
      } catch (err) {
        if (err === RETRY_ONE_BY_ONE) {
          oneByOne = true;
        } else if (err === RETRY_WITHOUT_BOOKKEEPING) {
          dropBookkeeping(delivered.length + journal.length, bookkeepingError);
          delivered = [];
          journal = [];
        } else {
          throw err;
        }
        for (const op of batch) op.failed = false;
      }
    }
  }
  const flush = (): void => {
    flushScheduled = false;
    const batch = ops;
    const delivered = deliveredQueue;
    const journal = journalQueue;
    ops = [];
    deliveredQueue = [];
    journalQueue = [];
    if (batch.length === 0 && delivered.length === 0 && journal.length === 0) return;
    try {
      if (!db.open) throw new ShiftctlError('E_DATABASE', 'The database is closed.');
      commitBatch(batch, delivered, journal);
    } catch (err) {
      const error = storageError(err);
      for (const op of batch) op.reject(error);
      // Bookkeeping has nobody to tell: it is counted and logged instead (not after close).
      if (db.open && delivered.length + journal.length > 0) {
        dropBookkeeping(delivered.length + journal.length, error);
      }
      return;
    }
    for (const op of batch) {
      if (op.failed) op.reject(op.error);
      else op.resolve(op.result);
    }
  };
  const scheduleFlush = (): void => {
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  /** Queues a write for the next group commit; resolves once it is committed. */
  const write = <T>(run: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      ops.push({ run, resolve: resolve as (value: unknown) => void, reject });
      scheduleFlush();
    });

  /** An id no shift has, never above `Number.MAX_SAFE_INTEGER`. */
  function freeShiftId(): number {
    const next = stmt.nextShiftId.get() as number;
    if (next <= Number.MAX_SAFE_INTEGER) return next;
    const lowest = stmt.lowestFreeShiftId.get() as number;
    if (lowest > Number.MAX_SAFE_INTEGER) {
      throw new ShiftctlError('E_SHIFT_EXISTS', 'Every shift id is taken; give the shift an id.');
    }
    return lowest;
  }

  /** Inserts a shift unless its id is taken; the new shift, or undefined when it was. */
  function insertShift(shift: NewShift, at: number): ShiftRecord | undefined {
    const id = shift.id ?? freeShiftId();
    const details = detailsOf(shift);
    const slots = shift.slots ?? 1;
    const mode = shift.mode ?? 'broadcast';
    const approval = shift.approval === true;
    const stepTtlS = shift.stepTtlS ?? null;
    const { changes } = stmt.insertShift.run(
      id,
      details.date,
      details.start_time,
      details.end_time,
      details.location_name,
      details.client_name,
      details.service_type,
      details.description,
      slots,
      mode,
      approval ? 1 : 0,
      stepTtlS,
      at,
    );
    if (changes !== 1) return undefined;
    return {
      id,
      date: details.date,
      start_time: details.start_time,
      end_time: details.end_time,
      location_name: details.location_name,
      client_name: details.client_name,
      service_type: details.service_type,
      description: details.description,
      slots,
      filled: 0,
      status: 'open',
      mode,
      approval,
      stepTtlS,
      createdAt: at,
      closedAt: null,
    };
  }

  function createShift(shift: NewShift, at: number): ShiftRecord {
    const created = insertShift(shift, at);
    if (!created) throw new ShiftctlError('E_SHIFT_EXISTS', `Shift ${shift.id} already exists.`);
    return created;
  }

  function ensureShift(
    shift: NewShift & { id: number },
    at: number,
    offer?: { empIds: readonly number[]; expiresAt: number | null },
    update?: Partial<ShiftDetails>,
  ): { shift: ShiftRecord; created: boolean; offers?: OfferRecord[] } {
    const created = insertShift(shift, at);
    if (created && offer?.empIds.length === 1 && created.mode === 'broadcast') {
      // The usual test offer, one employee and a new shift, open and held by nobody: no check
      // (about half a microsecond per offer in `npm run bench:store`).
      const [empId] = offer.empIds as [number];
      stmt.insertFirstOffer.run(created.id, empId, at, offer.expiresAt);
      const offers = [newOffer(created.id, empId, null, at, offer.expiresAt, 'open')];
      return { shift: created, created: true, offers };
    }
    let record = created ?? toShift(stmt.getShift.get(shift.id) as ShiftRow);
    if (!created && update && record.status === 'open') {
      record = updateShiftDetails(record.id, update) ?? record;
    }
    if (!offer) return { shift: record, created: created !== undefined };
    const written = addOffers(record.id, offer.empIds, at, {
      expiresAt: offer.expiresAt,
      queued: record.mode === 'cascade',
    });
    return written.offered
      ? { shift: record, created: created !== undefined, offers: written.offers }
      : { shift: record, created: created !== undefined };
  }

  function updateShiftDetails(id: number, details: Partial<ShiftDetails>): ShiftRecord | undefined {
    const fields = detailColumns(details);
    if (fields.length > 0) {
      // Column names come from the fixed list of detail columns, never from the caller.
      const set = fields.map(([k]) => `${k} = @${k}`).join(', ');
      db.prepare(`UPDATE shifts SET ${set} WHERE id = @id`).run({
        ...Object.fromEntries(fields),
        id,
      });
    }
    const row = stmt.getShift.get(id) as ShiftRow | undefined;
    return row && toShift(row);
  }

  function listShifts(status: ShiftStatus | null, id: number | null): ShiftSummary[] {
    const rows = stmt.listShifts.all({ status, id }) as Array<
      ShiftRow & {
        n_total: number;
        n_queued: number;
        n_open: number;
        n_requested: number;
        n_accepted: number;
        n_rejected: number;
        n_expired: number;
        assigned_to: string;
      }
    >;
    return rows.map((r) => ({
      shift: toShift(r),
      assignedTo: JSON.parse(r.assigned_to) as number[],
      offers: {
        total: r.n_total,
        queued: r.n_queued,
        open: r.n_open,
        requested: r.n_requested,
        accepted: r.n_accepted,
        rejected: r.n_rejected,
        expired: r.n_expired,
      },
    }));
  }

  const store: SqliteStore = {
    async isEmpty() {
      return stmt.anyShift.get() === undefined;
    },
    upsertEmployees(employees) {
      return write(() => upsertEmployees(employees));
    },
    createShift(shift: NewShift, at: number) {
      return write(() => createShift(shift, at));
    },
    ensureShift(shift, at, offer, update) {
      return write(() => ensureShift(shift, at, offer, update));
    },
    async updateShiftDetails(id: number, details: Partial<ShiftDetails>) {
      return write(() => updateShiftDetails(id, details));
    },
    async getShift(id) {
      const row = stmt.getShift.get(id) as ShiftRow | undefined;
      return row && toShift(row);
    },
    async listShifts(filter) {
      return listShifts(filter.status ?? null, filter.id ?? null);
    },
    addOffers(shiftId, empIds, at, options) {
      return write(() => addOffers(shiftId, empIds, at, options));
    },
    async getOffer(shiftId, empId) {
      const row = stmt.getOffer.get(shiftId, empId) as OfferRow | undefined;
      return row && toOffer(row);
    },
    async offersForShift(shiftId) {
      return (stmt.offersForShift.all(shiftId) as OfferRow[]).map(toOffer);
    },
    async openOffersFor(empId) {
      return (stmt.openOffersFor.all(empId) as JoinedRow[]).map(toOffered);
    },
    async history(empId, limit) {
      return (stmt.history.all(empId, limit) as JoinedRow[]).map(toOffered);
    },
    reject(shiftId, empId, at) {
      return write(() => reject(shiftId, empId, at));
    },
    claim(shiftId, empId, at) {
      return write(() => claim(shiftId, empId, at));
    },
    approve(shiftId, empId, at) {
      return write(() => approve(shiftId, empId, at));
    },
    expireDue(now) {
      return write(() => expireDue(now));
    },
    async nextDeadline() {
      return (stmt.nextDeadline.get() as number | null) ?? undefined;
    },
    advanceCascade(shiftId, at, fallbackTtlS) {
      return write(() => advanceCascade(shiftId, at, fallbackTtlS));
    },
    withdraw(shiftId, at) {
      return write(() => withdraw(shiftId, at));
    },
    markDelivered(shiftId, empIds, at) {
      if (empIds.length === 0) return;
      deliveredQueue.push([shiftId, at, empIds]);
      scheduleFlush();
    },
    async pendingCounts() {
      const rows = stmt.pendingCounts.all() as Array<{ emp_id: number; n: number }>;
      return new Map(rows.map((r) => [r.emp_id, r.n]));
    },
    async employees() {
      const rows = stmt.employees.all() as Array<{
        emp_id: number;
        name: string | null;
        pending: string;
        assigned: string;
      }>;
      return rows.map(
        (r): EmployeeSummary => ({
          empId: r.emp_id,
          name: r.name,
          pending: JSON.parse(r.pending) as number[],
          assigned: JSON.parse(r.assigned) as number[],
        }),
      );
    },
    journal(entry) {
      journalQueue.push(entry);
      scheduleFlush();
    },
    trimJournal(limits, max) {
      return write(() => trimJournal(limits, max));
    },
    async checkWritable() {
      await write(checkWritable);
    },
    limitPages(pages) {
      const cap =
        pages === null
          ? 4_294_967_294
          : (db.pragma('page_count', { simple: true }) as number) + pages;
      db.pragma(`max_page_count = ${cap}`);
    },
    async readJournal(filter) {
      flush();
      const read = filter.afterId ? stmt.journalAfter : stmt.newestJournal;
      const rows = read.all({
        emp_id: filter.empId ?? null,
        shift_id: filter.shiftId ?? null,
        kind: filter.kind ?? null,
        ...(filter.afterId ? { after_id: filter.afterId } : {}),
        limit: filter.limit,
      }) as Array<{
        id: number;
        at: number;
        kind: 'push' | 'request';
        emp_id: number | null;
        shift_id: number | null;
        name: string;
        outcome: string;
        detail: string | null;
      }>;
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        kind: r.kind,
        empId: r.emp_id,
        shiftId: r.shift_id,
        name: r.name,
        outcome: r.outcome,
        detail: r.detail === null ? null : JSON.parse(r.detail),
      }));
    },
    async reset(at) {
      flush();
      await write(() => reset(at));
    },
    async close() {
      if (!db.open) return;
      flush();
      db.close();
      if (onDisk) unlockDatabase(options.path);
    },
  };

  return store;
}
