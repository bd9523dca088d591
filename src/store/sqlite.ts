/**
 * The embedded SQLite store: the only module that imports the database driver.
 *
 * Durability: WAL journal with synchronous=NORMAL. A transaction is in the WAL file, handed to
 * the operating system, before its statement returns, so anything the server acknowledged
 * survives the process being killed (`kill -9`). `durability: 'full'` also survives a power
 * cut, at the cost of an fsync per commit.
 */
import Database from 'better-sqlite3';
import { ShiftctlError } from '../errors.js';
import {
  detailsOf,
  type OfferResponse,
  type Outcome,
  type ShiftDetails,
  type ShiftStatus,
} from '../protocol/schemas.js';
import type {
  ClaimResult,
  Employee,
  EmployeeSummary,
  NewShift,
  OfferedShift,
  OfferRecord,
  ShiftRecord,
  ShiftSummary,
  Store,
} from './types.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a throwaway database. */
  path: string;
  /** `normal` survives a crash of the process; `full` also survives a crash of the machine. */
  durability?: 'normal' | 'full';
}

const SCHEMA_VERSION = 1;

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
};

interface ShiftRow {
  id: number;
  date: string;
  start_time: string;
  end_time: string;
  location_name: string | null;
  client_name: string | null;
  service_type: string | null;
  description: string | null;
  slots: number;
  filled: number;
  status: ShiftStatus;
  created_at: number;
}

interface OfferRow {
  shift_id: number;
  emp_id: number;
  sent_at: number;
  delivered_at: number | null;
  answered_at: number | null;
  response: OfferResponse | null;
  outcome: Outcome;
}

const SHIFT_COLUMNS =
  's.id, s.date, s.start_time, s.end_time, s.location_name, s.client_name, s.service_type, s.description, s.slots, s.filled, s.status, s.created_at';
const OFFER_COLUMNS =
  'o.shift_id, o.emp_id, o.sent_at, o.delivered_at, o.answered_at, o.response, o.outcome';

function toShift(row: ShiftRow): ShiftRecord {
  return {
    id: row.id,
    date: row.date,
    start_time: row.start_time,
    end_time: row.end_time,
    location_name: row.location_name,
    client_name: row.client_name,
    service_type: row.service_type,
    description: row.description,
    slots: row.slots,
    filled: row.filled,
    status: row.status,
    createdAt: row.created_at,
  };
}

function toOffer(row: OfferRow): OfferRecord {
  return {
    shiftId: row.shift_id,
    empId: row.emp_id,
    sentAt: row.sent_at,
    deliveredAt: row.delivered_at,
    answeredAt: row.answered_at,
    response: row.response,
    outcome: row.outcome,
  };
}

/** Joined rows carry the offer's columns under `o_` names. */
type JoinedRow = ShiftRow & {
  o_shift_id: number;
  o_emp_id: number;
  o_sent_at: number;
  o_delivered_at: number | null;
  o_answered_at: number | null;
  o_response: OfferResponse | null;
  o_outcome: Outcome;
};

const JOINED_COLUMNS = `${SHIFT_COLUMNS}, ${OFFER_COLUMNS.replace(/o\.(\w+)/g, 'o.$1 AS o_$1')}`;

function toOffered(row: JoinedRow): OfferedShift {
  return {
    shift: toShift(row),
    offer: toOffer({
      shift_id: row.o_shift_id,
      emp_id: row.o_emp_id,
      sent_at: row.o_sent_at,
      delivered_at: row.o_delivered_at,
      answered_at: row.o_answered_at,
      response: row.o_response,
      outcome: row.o_outcome,
    }),
  };
}

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
  for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v}`);
    })();
  }
}

/** Opens (and creates or migrates) a SQLite database and returns the store over it. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = openDatabase(options.path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
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
    insertShift: db.prepare(`
      INSERT INTO shifts (id, date, start_time, end_time, location_name, client_name, service_type, description, slots, created_at)
      VALUES (@id, @date, @start_time, @end_time, @location_name, @client_name, @service_type, @description, @slots, @created_at)
      ON CONFLICT (id) DO NOTHING
      RETURNING *`),
    getShift: db.prepare(`SELECT ${SHIFT_COLUMNS} FROM shifts s WHERE s.id = ?`),
    insertOffer: db.prepare(
      'INSERT INTO offers (shift_id, emp_id, sent_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    getOffer: db.prepare(
      `SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.shift_id = ? AND o.emp_id = ?`,
    ),
    offersForShift: db.prepare(
      `SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.shift_id = ? ORDER BY o.sent_at, o.emp_id`,
    ),
    openOffersFor: db.prepare(`
      SELECT ${JOINED_COLUMNS} FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.emp_id = ? AND o.outcome = 'open' AND s.status = 'open'
      ORDER BY o.sent_at, o.shift_id`),
    history: db.prepare(`
      SELECT ${JOINED_COLUMNS} FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.emp_id = ? ORDER BY o.sent_at DESC, o.shift_id DESC LIMIT ?`),
    reject: db.prepare(`
      UPDATE offers SET response = 'rejected', answered_at = @at,
        outcome = CASE WHEN outcome = 'open' THEN 'rejected' ELSE outcome END,
        closed_at = COALESCE(closed_at, @at)
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND response IS NULL`),
    recordAccept: db.prepare(`
      UPDATE offers SET response = 'accepted', answered_at = @at
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND response IS NULL
      RETURNING outcome`),
    takeSlot: db.prepare(`
      UPDATE shifts SET filled = filled + 1,
        status = CASE WHEN filled + 1 >= slots THEN 'assigned' ELSE status END
      WHERE id = ? AND status = 'open' AND filled < slots
      RETURNING status`),
    insertAssignment: db.prepare(
      'INSERT INTO assignments (shift_id, emp_id, assigned_at) VALUES (?, ?, ?)',
    ),
    setOutcome: db.prepare(
      'UPDATE offers SET outcome = ?, closed_at = ? WHERE shift_id = ? AND emp_id = ?',
    ),
    closeOpenOffers: db
      .prepare(`
      UPDATE offers SET outcome = 'taken', closed_at = ?
      WHERE shift_id = ? AND outcome = 'open' RETURNING emp_id`)
      .pluck(),
    markDelivered: db.prepare(
      'UPDATE offers SET delivered_at = ? WHERE shift_id = ? AND emp_id = ? AND delivered_at IS NULL',
    ),
    pendingCounts: db.prepare(`
      SELECT o.emp_id AS emp_id, COUNT(*) AS n FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.outcome = 'open' AND s.status = 'open' GROUP BY o.emp_id`),
    listShifts: db.prepare(`
      SELECT ${SHIFT_COLUMNS},
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id) AS n_total,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'open') AS n_open,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.response = 'accepted') AS n_accepted,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.response = 'rejected') AS n_rejected,
        (SELECT json_group_array(a.emp_id) FROM assignments a WHERE a.shift_id = s.id) AS assigned_to
      FROM shifts s WHERE (@status IS NULL OR s.status = @status) AND (@id IS NULL OR s.id = @id)
      ORDER BY s.date, s.start_time, s.id`),
    employees: db.prepare(`
      WITH ids AS (
        SELECT id AS emp_id FROM employees UNION SELECT emp_id FROM offers UNION SELECT emp_id FROM assignments
      )
      SELECT ids.emp_id AS emp_id, e.name AS name,
        (SELECT json_group_array(o.shift_id) FROM offers o JOIN shifts s ON s.id = o.shift_id
          WHERE o.emp_id = ids.emp_id AND o.outcome = 'open' AND s.status = 'open') AS pending,
        (SELECT json_group_array(a.shift_id) FROM assignments a WHERE a.emp_id = ids.emp_id) AS assigned
      FROM ids LEFT JOIN employees e ON e.id = ids.emp_id ORDER BY ids.emp_id`),
  };

  const addOffers = db.transaction((shiftId: number, empIds: readonly number[], at: number) => {
    for (const empId of empIds) stmt.insertOffer.run(shiftId, empId, at);
    return empIds.map((empId) => toOffer(stmt.getOffer.get(shiftId, empId) as OfferRow));
  });

  const claim = db.transaction((shiftId: number, empId: number, at: number): ClaimResult => {
    const recorded = stmt.recordAccept.get({ shift_id: shiftId, emp_id: empId, at }) as
      | { outcome: Outcome }
      | undefined;
    if (!recorded) return { recorded: false };
    // An offer already closed (the shift went to others) cannot win, whatever the shift says.
    const slot =
      recorded.outcome === 'open'
        ? (stmt.takeSlot.get(shiftId) as { status: ShiftStatus } | undefined)
        : undefined;
    if (!slot) {
      if (recorded.outcome === 'open') stmt.setOutcome.run('taken', at, shiftId, empId);
      return { recorded: true, won: false, shiftFilled: true, closed: [] };
    }
    stmt.insertAssignment.run(shiftId, empId, at);
    stmt.setOutcome.run('assigned', at, shiftId, empId);
    const shiftFilled = slot.status === 'assigned';
    const closed = shiftFilled ? (stmt.closeOpenOffers.all(at, shiftId) as number[]) : [];
    return { recorded: true, won: true, shiftFilled, closed };
  });

  const upsertEmployees = db.transaction((employees: Employee[]) => {
    for (const e of employees) stmt.upsertEmployee.run(e.id, e.name ?? null, e.role ?? null);
  });

  // Delivery marks are bookkeeping, not acknowledgements: batch them into one transaction per
  // turn of the event loop instead of paying a write per message on the hot path.
  let deliveredQueue: Array<[number, number, number]> = [];
  let flushScheduled = false;
  const flushDelivered = db.transaction((rows: Array<[number, number, number]>) => {
    for (const [shiftId, empId, at] of rows) stmt.markDelivered.run(at, shiftId, empId);
  });
  const flush = (): void => {
    flushScheduled = false;
    const rows = deliveredQueue;
    deliveredQueue = [];
    if (rows.length > 0 && db.open) flushDelivered(rows);
  };

  const store: Store = {
    async isEmpty() {
      return stmt.anyShift.get() === undefined;
    },
    async upsertEmployees(employees) {
      upsertEmployees(employees);
    },
    async createShift(shift: NewShift, at: number) {
      const row = stmt.insertShift.get({
        id: shift.id ?? null,
        ...detailsOf(shift),
        slots: shift.slots ?? 1,
        created_at: at,
      }) as ShiftRow | undefined;
      if (!row) throw new ShiftctlError('E_SHIFT_EXISTS', `Shift ${shift.id} already exists.`);
      return toShift(row);
    },
    async updateShiftDetails(id: number, details: Partial<ShiftDetails>) {
      const fields = Object.entries(details).filter(([, v]) => v !== undefined);
      if (fields.length > 0) {
        // Column names come from the validated schema's keys, never from the client.
        const set = fields.map(([k]) => `${k} = @${k}`).join(', ');
        db.prepare(`UPDATE shifts SET ${set} WHERE id = @id`).run({
          ...Object.fromEntries(fields),
          id,
        });
      }
      const row = stmt.getShift.get(id) as ShiftRow | undefined;
      return row && toShift(row);
    },
    async getShift(id) {
      const row = stmt.getShift.get(id) as ShiftRow | undefined;
      return row && toShift(row);
    },
    async listShifts(filter) {
      return listShifts(filter.status ?? null, filter.id ?? null);
    },
    async addOffers(shiftId, empIds, at) {
      return addOffers(shiftId, empIds, at);
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
    async reject(shiftId, empId, at) {
      return stmt.reject.run({ shift_id: shiftId, emp_id: empId, at }).changes === 1;
    },
    async claim(shiftId, empId, at) {
      return claim(shiftId, empId, at);
    },
    markDelivered(shiftId, empIds, at) {
      for (const empId of empIds) deliveredQueue.push([shiftId, empId, at]);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
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
    async close() {
      if (!db.open) return;
      flush();
      db.close();
    },
  };

  function listShifts(status: ShiftStatus | null, id: number | null): ShiftSummary[] {
    const rows = stmt.listShifts.all({ status, id }) as Array<
      ShiftRow & {
        n_total: number;
        n_open: number;
        n_accepted: number;
        n_rejected: number;
        assigned_to: string;
      }
    >;
    return rows.map((r) => ({
      shift: toShift(r),
      assignedTo: JSON.parse(r.assigned_to) as number[],
      offers: { total: r.n_total, open: r.n_open, accepted: r.n_accepted, rejected: r.n_rejected },
    }));
  }

  return store;
}
