/**
 * The PostgreSQL store, for several `serve` instances sharing one database. The same rules as
 * the SQLite store (src/store/sqlite.ts), each decision one statement run under the row locks
 * of the shifts it touches; writes are group-committed (see postgres-batch.ts), reads go to the
 * pool, where postgres.js pipelines them.
 */

import postgres, { type PendingQuery, type Row, type RowList } from 'postgres';
import { ShiftctlError } from '../errors.js';
import { detailsOf, type Outcome, type ShiftStatus } from '../protocol/schemas.js';
import { redactUrl } from '../redact.js';
import type { StreakWarn } from '../streak.js';
import { createGroupCommit } from './postgres-batch.js';
import { migrate } from './postgres-schema.js';
import { readStats, STATS_WORK_MEM } from './postgres-stats.js';
import {
  DEVICE_COLUMNS,
  type DeviceRow,
  DUE_PUSH_JOINS,
  type DuePushRow,
  detailColumns,
  duePushColumns,
  JOINED_COLUMNS,
  type JoinedRow,
  OFFER_COLUMNS,
  OFFER_FIELDS,
  type OfferRow,
  pushesForTokenSql,
  SHIFT_COLUMNS,
  SHIFT_FIELDS,
  type ShiftRow,
  splitDuePushes,
  toDevice,
  toOffer,
  toOffered,
  toShift,
} from './rows.js';
import { SCHEMA_NAME } from './schema-name.js';
import type {
  ClaimResult,
  Employee,
  JournalEntry,
  NewShift,
  OfferedShift,
  OfferRecord,
  OfferWrite,
  ShiftRecord,
  Store,
} from './types.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database`. */
  url: string;
  /** Connections in the pool (one carries the group commits); 10 by default. */
  poolSize?: number | undefined;
  /**
   * The schema to keep the tables in, created if missing (the connections' `search_path`);
   * by default the user's usual one (`public`). Lets several servers or test runs share a
   * database without seeing each other.
   */
  schema?: string | undefined;
  /** Where background failures (a journal batch that could not be written) are reported. */
  log?: StreakWarn | undefined;
  /**
   * How long a statement waits for a lock held elsewhere (another program's transaction, a
   * migration) before its writes are refused with `E_DATABASE_BUSY`; 5000 ms by default. Writes
   * are committed one batch at a time, so a lock never let go would otherwise stall them all.
   */
  lockTimeoutMs?: number | undefined;
}

/** A shift and the offers to make of it, as fixtures describe them. */
export interface SeedShift extends NewShift {
  id: number;
  offerTo?: readonly number[] | undefined;
}

export interface PostgresStore extends Store {
  /**
   * Loads fixtures when the database holds no shift, under a lock so that of several instances
   * starting together exactly one loads them; resolves to whether this one did.
   */
  seedIfEmpty(seed: { employees: Employee[]; shifts: SeedShift[] }, at: number): Promise<boolean>;
}

/** See `Store.schedulePushesForToken`. */
const PUSHES_FOR_TOKEN_PARAMS: Record<string, string> = {
  emp_id: '$1::bigint',
  token: '$2::text',
  after: '$3::bigint',
  now: '$4::bigint',
};
const PUSHES_FOR_TOKEN = pushesForTokenSql(
  'GREATEST',
  (name) => PUSHES_FOR_TOKEN_PARAMS[name] ?? name,
);
/** Advisory lock class of fixture loading (the second key is the schema's name). */
const SEED_LOCK = 0x53_48_49_47;
/** Tries of an id for a shift created without one before giving up (each skips a run of ids). */
const ID_TRIES = 64;

/** Ordered as SQLite orders NULLs (first, ascending), so both stores list offers alike. */
const OFFER_ORDER = 'o.position NULLS FIRST, o.sent_at NULLS FIRST, o.emp_id';

/** A joined row as postgres.js returns it. */
const offeredOf = (row: Row): OfferedShift => toOffered(row as unknown as JoinedRow);

function requireIds(ids: readonly number[], what: string): void {
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id < 1) {
      throw new ShiftctlError('E_DATABASE', `${what} id ${id} is not a positive integer.`);
    }
  }
}

/**
 * Seconds to wait for a connection: postgres.js waits 30, which makes a wrong port (a service that
 * never answers) a start that hangs for half a minute, and a request that waits as long.
 */
export const CONNECT_TIMEOUT_S = 10;

/** BIGINT columns (ids, times, counts) read and written as numbers: none goes past 2^53 - 1. */
export const BIGINT_AS_NUMBER = {
  int8: {
    to: 20,
    from: [20],
    serialize: (x: number) => String(x),
    parse: (x: string) => Number(x),
  },
};

const INSERT_SHIFT = `
  INSERT INTO shifts (id, date, start_time, end_time, location_name, client_name, service_type,
    description, priority, slots, mode, approval, step_ttl_s, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  ON CONFLICT (id) DO NOTHING`;
/** The same with the identity's next id; nothing is written when a caller already took it. */
const INSERT_SHIFT_AUTO = `
  INSERT INTO shifts (date, start_time, end_time, location_name, client_name, service_type,
    description, priority, slots, mode, approval, step_ttl_s, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
  ON CONFLICT (id) DO NOTHING RETURNING id`;

const OFFER_RETURNING = OFFER_FIELDS.join(', ');
/**
 * Offers a shift while it is open, in one statement: queued after the cascade's last step
 * ($5 true), open at once with a deadline ($5 false), or as the shift's mode says ($5 null).
 * Those who already hold an offer keep it: their rows come back as they were (the statement's
 * snapshot does not see the rows it inserts), with the inserted ones after them; a shift that is
 * not open (or does not exist) comes back as one row with its status and no offer. The shift's
 * row is locked here too, in case it did not exist when the batch locked its shifts (created
 * by another instance a moment ago).
 */
const OFFER = `
  WITH s AS (
    SELECT status, COALESCE($5::boolean, mode = 'cascade') AS queued
    FROM shifts WHERE id = $1 FOR NO KEY UPDATE),
  last AS (SELECT COALESCE(MAX(position), 0) AS p FROM offers WHERE shift_id = $1),
  fresh AS (
    SELECT e.emp_id, row_number() OVER (ORDER BY e.n) AS k
    FROM unnest($2::bigint[]) WITH ORDINALITY AS e (emp_id, n)
    WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = $1 AND o.emp_id = e.emp_id)),
  queued AS (
    INSERT INTO offers (shift_id, emp_id, position, outcome)
    SELECT $1, f.emp_id, last.p + f.k, 'queued' FROM fresh f, last
    WHERE (SELECT status = 'open' AND queued FROM s)
    ON CONFLICT DO NOTHING
    RETURNING ${OFFER_RETURNING}),
  -- The offers it opens come back as one list of ids: each is open, sent at $3 with deadline $4,
  -- and nothing else yet. Rows of every column cost a broadcast to 50,000 a third of its time.
  opened AS (
    INSERT INTO offers (shift_id, emp_id, sent_at, expires_at, outcome)
    SELECT $1, e.emp_id, $3, $4, 'open' FROM unnest($2::bigint[]) AS e (emp_id)
    WHERE (SELECT status = 'open' AND NOT queued FROM s)
    ON CONFLICT DO NOTHING
    RETURNING emp_id)
  SELECT (SELECT status FROM s) AS shift_status, o.* FROM (SELECT 1) one
  LEFT JOIN (
    SELECT ${OFFER_COLUMNS}, NULL::text AS opened
    FROM offers o WHERE o.shift_id = $1 AND o.emp_id = ANY($2::bigint[])
    UNION ALL SELECT *, NULL FROM queued
    UNION ALL SELECT ${OFFER_FIELDS.map(() => 'NULL').join(', ')}, string_agg(emp_id::text, ',')
    FROM opened HAVING count(*) > 0) o ON (SELECT status FROM s) = 'open'`;

/** What the OFFER statement wrote (at `at`, open ones until `expiresAt`), for `empIds` in order. */
function offerResult(
  shiftId: number,
  empIds: readonly number[],
  at: number,
  expiresAt: number | null,
  rows: RowList<Row[]> | undefined,
): OfferWrite {
  const status = (rows?.[0] as { shift_status: ShiftStatus | null } | undefined)?.shift_status;
  if (status !== 'open') return { offered: false, status: status ?? undefined };
  const held = new Map<number, OfferRecord>();
  for (const row of rows ?? []) {
    if (row.shift_id !== null) held.set(row.emp_id, toOffer(row as OfferRow));
    else if (typeof row.opened === 'string') {
      for (const id of row.opened.split(',')) {
        const empId = Number(id);
        held.set(empId, {
          shiftId,
          empId,
          position: null,
          sentAt: at,
          expiresAt,
          deliveredAt: null,
          answeredAt: null,
          response: null,
          outcome: 'open',
        });
      }
    }
  }
  return { offered: true, offers: empIds.map((empId) => held.get(empId) as OfferRecord) };
}

// Whether an accepted offer wins, is requested or lost is decided from the shift's row, which
// the batch locked: no other writer can change it, or the shift's offers, until this commits.
const CLAIM_OFFER = `
  UPDATE offers SET response = 'accepted', answered_at = $3,
    outcome = CASE WHEN offers.outcome <> 'open' THEN offers.outcome
                   WHEN s.approval THEN 'requested'
                   WHEN s.status = 'open' AND s.filled < s.slots THEN 'assigned'
                   ELSE 'taken' END,
    closed_at = CASE WHEN offers.outcome <> 'open' THEN offers.closed_at
                     WHEN s.approval THEN NULL ELSE $3 END
  FROM s
  WHERE offers.shift_id = $1 AND offers.emp_id = $2 AND offers.response IS NULL
    AND offers.sent_at IS NOT NULL
    AND offers.outcome <> 'queued' AND offers.outcome <> 'expired' AND offers.outcome <> 'withdrawn'
    AND (offers.outcome <> 'open' OR offers.expires_at IS NULL OR offers.expires_at > $3)
  RETURNING offers.outcome`;
const APPROVE_OFFER = `
  UPDATE offers SET closed_at = $3,
    outcome = CASE WHEN s.status = 'open' AND s.filled < s.slots THEN 'assigned' ELSE 'taken' END
  FROM s
  WHERE offers.shift_id = $1 AND offers.emp_id = $2 AND offers.outcome = 'requested'
  RETURNING offers.outcome`;
/** The slot an assignment takes, and the other offers that close when it was the last. */
const TAKE_SLOT = (offerUpdate: string) => `
  WITH s AS (SELECT status, filled, slots, approval FROM shifts WHERE id = $1),
  o AS (${offerUpdate}),
  slot AS (
    UPDATE shifts SET filled = filled + 1,
      status = CASE WHEN filled + 1 >= slots THEN 'assigned' ELSE status END,
      closed_at = CASE WHEN filled + 1 >= slots THEN $3 ELSE closed_at END
    WHERE id = $1 AND EXISTS (SELECT 1 FROM o WHERE outcome = 'assigned')
    RETURNING status),
  rest AS (
    UPDATE offers SET outcome = 'taken', closed_at = $3
    WHERE shift_id = $1 AND emp_id <> $2
      AND (outcome = 'open' OR outcome = 'requested' OR outcome = 'queued')
      AND EXISTS (SELECT 1 FROM slot WHERE status = 'assigned')
    RETURNING emp_id, sent_at IS NOT NULL AS held)
  SELECT (SELECT outcome FROM o) AS outcome, (SELECT status FROM slot) AS shift_status,
    ARRAY(SELECT emp_id FROM rest WHERE held ORDER BY emp_id) AS closed`;
const CLAIM = TAKE_SLOT(CLAIM_OFFER);
const APPROVE = TAKE_SLOT(APPROVE_OFFER);

function claimResult(rows: RowList<Row[]>): ClaimResult | undefined {
  const row = rows[0] as {
    outcome: Outcome | null;
    shift_status: ShiftStatus | null;
    closed: number[];
  };
  if (!row || row.outcome === null) return undefined;
  const shiftFilled =
    row.outcome === 'taken' || (row.outcome === 'assigned' && row.shift_status === 'assigned');
  return { recorded: true, outcome: row.outcome, shiftFilled, closed: row.closed };
}

/**
 * Deletes the oldest journal lines beyond the limits, up to $1 of them, never the newest (ids
 * continue from it): those more than $2 ids behind the newest, or written before $3. Ids are
 * in time order, so the oldest ids are the oldest lines, found on the primary key. (Ids a
 * failed batch drew are skipped, so a cap can keep a few lines fewer, never more.)
 */
const TRIM_JOURNAL = `
  WITH ends AS (SELECT MIN(id) AS first, MAX(id) AS last FROM journal),
  gone AS (
    DELETE FROM journal j USING ends
    WHERE j.id <= LEAST(ends.first + $1::bigint - 1, ends.last - 1)
      AND (j.id <= ends.last - $2::bigint OR j.at < $3::bigint)
    RETURNING 1)
  SELECT COUNT(*)::int AS n FROM gone`;

/**
 * A write that writes nothing: refused as a real one would be by a database that takes no
 * writes (a read-only standby) or whose journal is locked elsewhere past the lock timeout.
 */
const PROBE_WRITE = `
  INSERT INTO journal (at, kind, name, outcome) SELECT 0, 'request', 'probe', 'probe' WHERE false`;

/** Connects, creates or migrates the tables, and returns the store over them. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ShiftctlError(
      'E_DATABASE',
      `The schema name ${JSON.stringify(schema)} is not a plain identifier (letters, digits, _).`,
    );
  }
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new ShiftctlError(
      'E_DATABASE',
      `The pool size must be a positive integer, not ${poolSize}.`,
    );
  }
  const lockTimeoutMs = options.lockTimeoutMs ?? 5000;
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 1) {
    throw new ShiftctlError(
      'E_DATABASE',
      `The lock timeout must be a positive number of milliseconds, not ${lockTimeoutMs}.`,
    );
  }
  const log: StreakWarn =
    options.log ??
    ((message, fields) =>
      process.stderr.write(`shiftctl: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`));
  const sql = postgres(options.url, {
    max: poolSize,
    connect_timeout: CONNECT_TIMEOUT_S,
    // Notices ("already exists, skipping") are chatter; a warning means a statement is wrong.
    onnotice: (notice) => {
      if (notice.severity === 'WARNING') log(`PostgreSQL warned: ${notice.message}`);
    },
    types: BIGINT_AS_NUMBER,
    connection: {
      // Named by schema, so that an operator (or a test) can tell instances' sessions apart.
      application_name: schema === undefined ? 'shiftctl' : `shiftctl/${schema}`,
      lock_timeout: lockTimeoutMs,
      ...(schema === undefined ? {} : { search_path: `"${schema}"` }),
    },
  });
  try {
    await migrate(sql, schema);
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    if (err instanceof ShiftctlError) throw err;
    throw new ShiftctlError(
      'E_DATABASE',
      `Cannot use the database at ${redactUrl(options.url)}: ${(err as Error).message}`,
    );
  }

  const writer = createGroupCommit(sql, log);
  const run = (text: string, params: unknown[] = []) =>
    sql.unsafe(text, params as never[], { prepare: true }) as unknown as PendingQuery<Row[]>;
  // Reads are planned for their parameters each time, not from a prepared statement's generic
  // plan: that plan is chosen after five runs, while the tables are small, and kept until they
  // are analyzed (never, with autovacuum off). On such a database the open offers a connecting
  // device is sent were read with a sequential scan of every shift for each offer: 10-25 ms a
  // connection at 20,000 shifts. The statement stays prepared (its parameters' types learnt
  // once); the settings, for the batch's implicit transaction alone, ride in the same round trip.
  // The writes' statements look rows up by key and keep their generic plans.
  const readWith =
    (settings: () => PendingQuery<Row[]>) =>
    async <T>(text: string, params: unknown[] = []) => {
      const [, rows] = await sql.batch([settings(), run(text, params)]);
      return rows as unknown as T[];
    };
  const read = readWith(() => sql`SELECT set_config('plan_cache_mode', 'force_custom_plan', true)`);
  // The stats' hash tables (one row per shift) spill to disk at the default work_mem (4 MB).
  const readStatsRows = readWith(
    () => sql`SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
      set_config('work_mem', ${STATS_WORK_MEM}, true)`,
  );

  async function getShift(id: number): Promise<ShiftRecord | undefined> {
    const [row] = await read<ShiftRow>(`SELECT ${SHIFT_COLUMNS} FROM shifts s WHERE s.id = $1`, [
      id,
    ]);
    return row && toShift(row);
  }

  function shiftParams(id: number | null, shift: NewShift, at: number): unknown[] {
    const details = detailsOf(shift);
    return [
      id,
      details.date,
      details.start_time,
      details.end_time,
      details.location_name,
      details.client_name,
      details.service_type,
      details.description,
      details.priority,
      shift.slots ?? 1,
      shift.mode ?? 'broadcast',
      shift.approval === true,
      shift.stepTtlS ?? null,
      at,
    ];
  }

  /** A shift as it was just inserted, without reading it back. */
  function shiftRecord(id: number, shift: NewShift, at: number): ShiftRecord {
    return {
      id,
      ...detailsOf(shift),
      slots: shift.slots ?? 1,
      filled: 0,
      status: 'open',
      mode: shift.mode ?? 'broadcast',
      approval: shift.approval === true,
      stepTtlS: shift.stepTtlS ?? null,
      createdAt: at,
      closedAt: null,
    };
  }

  /** A shift created without an id: the identity's next value, skipping ids already taken. */
  async function createWithoutId(shift: NewShift, at: number): Promise<ShiftRecord> {
    for (let tries = 0; tries < ID_TRIES; tries++) {
      const id = await writer.write({
        shifts: [],
        statements: () => [run(INSERT_SHIFT_AUTO, shiftParams(null, shift, at).slice(1))],
        finish: ([rows]) => (rows?.[0] as { id: number } | undefined)?.id,
      });
      if (id !== undefined) return shiftRecord(id, shift, at);
      // Ids given by callers fill this stretch: move the sequence past the end of the run of
      // taken ids it is in (past 2^53 - 1 it cycles to 1).
      await run(`
        SELECT setval('shifts_id_seq', COALESCE((
          SELECT MIN(s.id) FROM shifts s
          WHERE s.id >= (SELECT last_value FROM shifts_id_seq)
            AND NOT EXISTS (SELECT 1 FROM shifts t WHERE t.id = s.id + 1)), 1))`);
    }
    throw new ShiftctlError('E_SHIFT_EXISTS', 'Every shift id is taken; give the shift an id.');
  }

  /** The OFFER statement; `queued` null offers as the shift's mode says. */
  function offerStatement(
    shiftId: number,
    empIds: readonly number[],
    at: number,
    expiresAt: number | null,
    queued: boolean | null,
  ): PendingQuery<Row[]> {
    return run(OFFER, [shiftId, [...new Set(empIds)], at, queued ? null : expiresAt, queued]);
  }

  async function seedIfEmpty(
    seed: { employees: Employee[]; shifts: SeedShift[] },
    at: number,
  ): Promise<boolean> {
    requireIds(
      seed.employees.map((e) => e.id),
      'Employee',
    );
    requireIds(
      seed.shifts.map((s) => s.id),
      'Shift',
    );
    return sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${SEED_LOCK}::int,
        hashtext(COALESCE(${schema ?? null}::text, current_schema(), '')))`;
      const [any] = await tx`SELECT EXISTS (SELECT 1 FROM shifts) AS any`;
      if (any?.any === true) return false;
      const employees = mergeEmployees(seed.employees);
      await tx.unsafe(UPSERT_EMPLOYEES, employeeParams(employees) as never[], { prepare: true });
      for (const shift of seed.shifts) {
        await tx.unsafe(INSERT_SHIFT, shiftParams(shift.id, shift, at) as never[], {
          prepare: true,
        });
        if (shift.offerTo?.length) {
          await tx.unsafe(
            `INSERT INTO offers (shift_id, emp_id, sent_at, outcome)
             SELECT $1, emp_id, $2, 'open' FROM unnest($3::bigint[]) AS e (emp_id)
             ON CONFLICT DO NOTHING`,
            [shift.id, at, [...shift.offerTo]] as never[],
          );
        }
      }
      return true;
    });
  }

  const store: PostgresStore = {
    async isEmpty() {
      const [row] = await read<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM shifts) AS any');
      return row?.any !== true;
    },

    async upsertEmployees(employees) {
      requireIds(
        employees.map((e) => e.id),
        'Employee',
      );
      if (employees.length === 0) return;
      const merged = mergeEmployees(employees);
      await writer.write({
        shifts: [],
        statements: () => [run(UPSERT_EMPLOYEES, employeeParams(merged))],
        finish: () => undefined,
      });
    },

    async createShift(shift, at) {
      if (shift.id === undefined) return createWithoutId(shift, at);
      const id = shift.id;
      requireIds([id], 'Shift');
      return writer.write({
        shifts: [],
        statements: () => [run(`${INSERT_SHIFT} RETURNING id`, shiftParams(id, shift, at))],
        finish: ([rows]) => {
          if (rows?.length !== 1) {
            throw new ShiftctlError('E_SHIFT_EXISTS', `Shift ${id} already exists.`);
          }
          return shiftRecord(id, shift, at);
        },
      });
    },

    async ensureShift(shift, at, offer, update) {
      requireIds([shift.id], 'Shift');
      if (offer) requireIds(offer.empIds, 'Employee');
      const fields = update ? detailColumns(update) : [];
      const params = shiftParams(shift.id, shift, at);
      // The shift as it is after this statement: inserted (built below), or as it was, having
      // taken the details while open. Its snapshot does not see the row it inserts.
      const ensure =
        fields.length === 0
          ? `WITH ins AS (${INSERT_SHIFT} RETURNING id)
             SELECT EXISTS (SELECT 1 FROM ins) AS created, ${SHIFT_COLUMNS}
             FROM (SELECT 1) one LEFT JOIN shifts s ON s.id = $1`
          : `WITH ins AS (${INSERT_SHIFT} RETURNING id),
             upd AS (
               UPDATE shifts SET ${fields.map(([k], i) => `${k} = $${i + params.length + 1}`).join(', ')}
               WHERE id = $1 AND status = 'open' RETURNING ${SHIFT_FIELDS.join(', ')})
             SELECT EXISTS (SELECT 1 FROM ins) AS created, s.* FROM (SELECT 1) one
             LEFT JOIN (
               SELECT * FROM upd
               UNION ALL SELECT ${SHIFT_COLUMNS} FROM shifts s
               WHERE s.id = $1 AND NOT EXISTS (SELECT 1 FROM upd)) s ON true`;
      const result = await writer.write({
        shifts: [shift.id],
        statements: () => [
          run(ensure, [...params, ...fields.map(([, v]) => v)]),
          ...(offer ? [offerStatement(shift.id, offer.empIds, at, offer.expiresAt, null)] : []),
        ],
        finish: ([ensured, offered]) => {
          const row = ensured?.[0] as (ShiftRow & { created: boolean }) | undefined;
          const created = row?.created === true;
          let record: ShiftRecord | undefined;
          if (created) record = shiftRecord(shift.id, shift, at);
          else if (row && row.id !== null) record = toShift(row);
          const written =
            offer && offerResult(shift.id, offer.empIds, at, offer.expiresAt, offered);
          return { record, created, written };
        },
      });
      // Created by another instance while this statement waited for its insert: read as it is.
      const record = result.record ?? (await getShift(shift.id));
      if (!record) throw new ShiftctlError('E_DATABASE', `Shift ${shift.id} could not be read.`);
      return result.written?.offered
        ? { shift: record, created: result.created, offers: result.written.offers }
        : { shift: record, created: result.created };
    },

    async updateShiftDetails(id, details) {
      const fields = detailColumns(details);
      if (fields.length === 0) return getShift(id);
      // Column names come from the fixed list of detail fields, never from the client.
      const set = fields.map(([k], i) => `${k} = $${i + 2}`).join(', ');
      return writer.write({
        shifts: [id],
        statements: () => [
          run(`UPDATE shifts s SET ${set} WHERE s.id = $1 RETURNING ${SHIFT_COLUMNS}`, [
            id,
            ...fields.map(([, v]) => v),
          ]),
        ],
        finish: ([rows]) => {
          const row = rows?.[0] as ShiftRow | undefined;
          return row && toShift(row);
        },
      });
    },

    getShift,

    async listShifts(filter) {
      const rows = await read<
        ShiftRow & {
          n_total: number;
          n_queued: number;
          n_open: number;
          n_requested: number;
          n_accepted: number;
          n_rejected: number;
          n_expired: number;
          assigned_to: number[];
        }
      >(
        `SELECT ${SHIFT_COLUMNS}, c.* FROM shifts s
         CROSS JOIN LATERAL (
           SELECT COUNT(*) AS n_total,
             COUNT(*) FILTER (WHERE o.outcome = 'queued') AS n_queued,
             COUNT(*) FILTER (WHERE o.outcome = 'open') AS n_open,
             COUNT(*) FILTER (WHERE o.outcome = 'requested') AS n_requested,
             COUNT(*) FILTER (WHERE o.response = 'accepted') AS n_accepted,
             COUNT(*) FILTER (WHERE o.response = 'rejected') AS n_rejected,
             COUNT(*) FILTER (WHERE o.outcome = 'expired') AS n_expired,
             ARRAY(SELECT a.emp_id FROM offers a
                   WHERE a.shift_id = s.id AND a.outcome = 'assigned' ORDER BY a.emp_id)
               AS assigned_to
           FROM offers o WHERE o.shift_id = s.id) c
         WHERE ($1::text IS NULL OR s.status = $1) AND ($2::bigint IS NULL OR s.id = $2)
         ORDER BY s.date, s.start_time, s.id`,
        [filter.status ?? null, filter.id ?? null],
      );
      return rows.map((r) => ({
        shift: toShift(r),
        assignedTo: r.assigned_to,
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
    },

    async addOffers(shiftId, empIds, at, options) {
      requireIds(empIds, 'Employee');
      const queued = options.queued === true;
      return writer.write({
        shifts: [shiftId],
        statements: () => [offerStatement(shiftId, empIds, at, options.expiresAt ?? null, queued)],
        finish: ([rows]) =>
          offerResult(shiftId, empIds, at, queued ? null : (options.expiresAt ?? null), rows),
      });
    },

    async getOffer(shiftId, empId) {
      const [row] = await read<OfferRow>(
        `SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.shift_id = $1 AND o.emp_id = $2`,
        [shiftId, empId],
      );
      return row && toOffer(row);
    },

    async offersForShift(shiftId) {
      const rows = await read<OfferRow>(
        `SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.shift_id = $1 ORDER BY ${OFFER_ORDER}`,
        [shiftId],
      );
      return rows.map(toOffer);
    },

    async openOffersFor(empId) {
      const rows = await read<Row>(
        `SELECT ${JOINED_COLUMNS} FROM offers o JOIN shifts s ON s.id = o.shift_id
         WHERE o.emp_id = $1 AND o.outcome = 'open' AND s.status = 'open'
         ORDER BY s.priority = 'urgent' DESC, o.sent_at, o.shift_id`,
        [empId],
      );
      return rows.map(offeredOf);
    },

    async history(empId, limit) {
      const rows = await read<Row>(
        `SELECT ${JOINED_COLUMNS} FROM offers o JOIN shifts s ON s.id = o.shift_id
         WHERE o.emp_id = $1 AND o.sent_at IS NOT NULL
         ORDER BY o.sent_at DESC, o.shift_id DESC LIMIT $2`,
        [empId, limit],
      );
      return rows.map(offeredOf);
    },

    reject(shiftId, empId, at) {
      // An answer is recorded once, on an offer that was sent and not closed by its deadline
      // or a withdrawal; an open offer past its deadline counts as expired even before its
      // timer runs. An offer closed because the shift went to others keeps `taken`.
      return writer.write({
        shifts: [shiftId],
        statements: () => [
          run(
            `UPDATE offers SET response = 'rejected', answered_at = $3,
               outcome = CASE WHEN outcome = 'open' THEN 'rejected' ELSE outcome END,
               closed_at = COALESCE(closed_at, $3)
             WHERE shift_id = $1 AND emp_id = $2 AND response IS NULL AND sent_at IS NOT NULL
               AND outcome <> 'queued' AND outcome <> 'expired' AND outcome <> 'withdrawn'
               AND (outcome <> 'open' OR expires_at IS NULL OR expires_at > $3)
             RETURNING outcome`,
            [shiftId, empId, at],
          ),
        ],
        finish: ([rows]) => (rows?.[0] as { outcome: Outcome } | undefined)?.outcome,
      });
    },

    claim(shiftId, empId, at) {
      return writer.write({
        shifts: [shiftId],
        statements: () => [run(CLAIM, [shiftId, empId, at])],
        finish: ([rows]): ClaimResult => (rows && claimResult(rows)) ?? { recorded: false },
      });
    },

    approve(shiftId, empId, at) {
      return writer.write({
        shifts: [shiftId],
        statements: () => [run(APPROVE, [shiftId, empId, at])],
        finish: ([rows]) => rows && claimResult(rows),
      });
    },

    expireDue(now) {
      return writer.write({
        shifts: [],
        due: now,
        statements: () => [
          run(
            `WITH x AS (
               UPDATE offers SET outcome = 'expired', closed_at = expires_at
               WHERE outcome = 'open' AND expires_at <= $1
               RETURNING shift_id, emp_id, expires_at)
             SELECT shift_id, emp_id FROM x ORDER BY expires_at, shift_id, emp_id`,
            [now],
          ),
        ],
        finish: ([rows = []]) => {
          const byShift = new Map<number, number[]>();
          for (const r of rows as unknown as Array<{ shift_id: number; emp_id: number }>) {
            const same = byShift.get(r.shift_id);
            if (same) same.push(r.emp_id);
            else byShift.set(r.shift_id, [r.emp_id]);
          }
          return [...byShift].map(([shiftId, empIds]) => ({ shiftId, empIds }));
        },
      });
    },

    async nextDeadline() {
      const [row] = await read<{ at: number | null }>(
        `SELECT MIN(expires_at) AS at FROM offers WHERE outcome = 'open' AND expires_at IS NOT NULL`,
      );
      return row?.at ?? undefined;
    },

    advanceCascade(shiftId, at, fallbackTtlS) {
      // Nobody holds the shift now: open the first queued step, or mark it unfilled.
      return writer.write({
        shifts: [shiftId],
        statements: () => [
          run(
            `WITH s AS (
               SELECT step_ttl_s FROM shifts
               WHERE id = $1 AND status = 'open' AND mode = 'cascade'
                 AND NOT EXISTS (SELECT 1 FROM offers WHERE shift_id = $1
                   AND (outcome = 'open' OR outcome = 'requested'))),
             nxt AS (
               SELECT o.emp_id, COALESCE(s.step_ttl_s::float8, $3::float8) AS ttl
               FROM offers o, s WHERE o.shift_id = $1 AND o.outcome = 'queued'
               ORDER BY o.position LIMIT 1),
             step AS (
               UPDATE offers o SET outcome = 'open', sent_at = $2,
                 expires_at = $2 + round(nxt.ttl * 1000)::bigint
               FROM nxt WHERE o.shift_id = $1 AND o.emp_id = nxt.emp_id AND o.outcome = 'queued'
               RETURNING ${OFFER_COLUMNS}),
             unfilled AS (
               UPDATE shifts SET status = 'unfilled', closed_at = $2
               WHERE id = $1 AND EXISTS (SELECT 1 FROM s) AND NOT EXISTS (SELECT 1 FROM nxt))
             SELECT * FROM step`,
            [shiftId, at, fallbackTtlS ?? null],
          ),
        ],
        finish: ([rows]) => {
          const row = rows?.[0] as OfferRow | undefined;
          return row && toOffer(row);
        },
      });
    },

    withdraw(shiftId, at) {
      // Everyone who held the shift is told, those it was assigned to included: their
      // assignments end with it, and its slots are free again.
      return writer.write({
        shifts: [shiftId],
        statements: () => [
          run(
            `WITH w AS (
               UPDATE shifts SET status = 'withdrawn', closed_at = $2, filled = 0
               WHERE id = $1 AND status = 'open' RETURNING id),
             rest AS (
               UPDATE offers SET outcome = 'withdrawn', closed_at = $2
               WHERE shift_id = $1 AND EXISTS (SELECT 1 FROM w)
                 AND (outcome = 'open' OR outcome = 'requested' OR outcome = 'queued'
                   OR outcome = 'assigned')
               RETURNING emp_id, sent_at IS NOT NULL AS held)
             SELECT EXISTS (SELECT 1 FROM w) AS withdrawn,
               ARRAY(SELECT emp_id FROM rest WHERE held ORDER BY emp_id) AS holders`,
            [shiftId, at],
          ),
        ],
        finish: ([rows]) => {
          const row = rows?.[0] as { withdrawn: boolean; holders: number[] } | undefined;
          return row?.withdrawn ? row.holders : undefined;
        },
      });
    },

    markDelivered(shiftId, empIds, at) {
      writer.markDelivered(shiftId, empIds, at);
    },

    async pendingCounts() {
      const rows = await read<{ emp_id: number; n: number }>(
        `SELECT o.emp_id, COUNT(*) AS n FROM offers o JOIN shifts s ON s.id = o.shift_id
         WHERE o.outcome = 'open' AND s.status = 'open' GROUP BY o.emp_id`,
      );
      return new Map(rows.map((r) => [r.emp_id, r.n]));
    },

    async employees() {
      const rows = await read<{
        emp_id: number;
        name: string | null;
        pending: number[];
        assigned: number[];
      }>(
        `WITH ids AS (SELECT id AS emp_id FROM employees UNION SELECT emp_id FROM offers)
         SELECT ids.emp_id, e.name,
           ARRAY(SELECT o.shift_id FROM offers o JOIN shifts s ON s.id = o.shift_id
                 WHERE o.emp_id = ids.emp_id AND o.outcome = 'open' AND s.status = 'open'
                 ORDER BY o.sent_at, o.shift_id) AS pending,
           ARRAY(SELECT o.shift_id FROM offers o
                 WHERE o.emp_id = ids.emp_id AND o.outcome = 'assigned'
                 ORDER BY o.sent_at, o.shift_id) AS assigned
         FROM ids LEFT JOIN employees e ON e.id = ids.emp_id ORDER BY ids.emp_id`,
      );
      return rows.map((r) => ({
        empId: r.emp_id,
        name: r.name,
        pending: r.pending,
        assigned: r.assigned,
      }));
    },

    journal(entry) {
      writer.journal(entry);
    },

    async readJournal(filter) {
      await writer.drain();
      const where = `($1::bigint IS NULL OR emp_id = $1) AND ($2::bigint IS NULL OR shift_id = $2)
        AND ($3::text IS NULL OR kind = $3)`;
      const cols = 'id, at, kind, emp_id, shift_id, name, outcome, detail';
      const params = [
        filter.empId ?? null,
        filter.shiftId ?? null,
        filter.kind ?? null,
        filter.limit,
      ];
      // The newest entries (read back oldest first); or, when following, the next ones whose
      // writers have all finished (see version 3 in postgres-schema.ts): a line written by a
      // transaction still open, or by one after it, waits for the next read.
      const rows = filter.afterId
        ? await read<Row>(
            `SELECT ${cols} FROM journal WHERE id > $5 AND ${where}
               AND xid < pg_snapshot_xmin(pg_current_snapshot())
             ORDER BY id LIMIT $4`,
            [...params, filter.afterId],
          )
        : await read<Row>(
            `SELECT * FROM (SELECT ${cols} FROM journal WHERE ${where} ORDER BY id DESC LIMIT $4) j
             ORDER BY id`,
            params,
          );
      return rows.map(
        (r): JournalEntry => ({
          id: r.id,
          at: r.at,
          kind: r.kind,
          empId: r.emp_id,
          shiftId: r.shift_id,
          name: r.name,
          outcome: r.outcome,
          detail: r.detail === null ? null : JSON.parse(r.detail),
        }),
      );
    },

    trimJournal(limits, max) {
      return writer.write({
        shifts: [],
        statements: () => [run(TRIM_JOURNAL, [max, limits.maxRows ?? null, limits.before ?? null])],
        finish: ([rows]) => (rows?.[0] as { n: number } | undefined)?.n ?? 0,
      });
    },

    registerDevice(device, at, maxPerEmployee) {
      const { empId, token, platform } = device;
      return writer.write({
        shifts: [],
        statements: () => [
          // Registrations of one employee wait for each other, so that the cap holds.
          run(`SELECT pg_advisory_xact_lock(${DEVICE_LOCK}, hashtext($1::text))`, [empId]),
          run(UPSERT_DEVICE, [token, empId, platform, at]),
          run(EVICT_DEVICES, [empId, token, maxPerEmployee]),
        ],
        finish: ([, rows]) => {
          const row = rows?.[0] as
            | (DeviceRow & { inserted: boolean; prior_emp: number | null })
            | undefined;
          if (!row) throw new ShiftctlError('E_DATABASE', 'The push token was not written.');
          return {
            device: toDevice(row),
            created: row.inserted || (row.prior_emp !== null && row.prior_emp !== empId),
          };
        },
      });
    },

    async listDevices(empId) {
      const rows = await read<DeviceRow>(
        `SELECT ${DEVICE_COLUMNS} FROM devices WHERE emp_id = $1 ORDER BY seen_at DESC, token`,
        [empId],
      );
      return rows.map(toDevice);
    },

    deleteDevice(empId, token) {
      return writer.write({
        shifts: [],
        statements: () => [
          run('DELETE FROM devices WHERE emp_id = $1 AND token = $2', [empId, token]),
        ],
        finish: ([rows]) => rows?.count === 1,
      });
    },

    schedulePushes(shiftId, empIds, dueAt) {
      return writer.write({
        shifts: [],
        statements: () => [
          run(
            `INSERT INTO pushes (shift_id, emp_id, token, due_at)
             SELECT $1, d.emp_id, d.token, $3 FROM devices d WHERE d.emp_id = ANY($2::bigint[])
             ORDER BY d.token
             ON CONFLICT DO NOTHING`,
            [shiftId, empIds, dueAt],
          ),
        ],
        finish: ([rows]) => rows?.count ?? 0,
      });
    },

    schedulePushesForToken(empId, token, afterMs, now) {
      return writer.write({
        shifts: [],
        statements: () => [run(PUSHES_FOR_TOKEN, [empId, token, afterMs, now])],
        finish: ([rows]) => rows?.count ?? 0,
      });
    },

    async nextPushDue() {
      const [row] = await read<{ at: number | null }>(
        `SELECT MIN(due_at) AS at FROM pushes WHERE state IN ('due', 'sending')`,
      );
      return row?.at ?? undefined;
    },

    claimPushes(now, leaseUntil, claimId, limit) {
      // Rows another claimer has locked are skipped, not waited for: it is claiming them.
      return writer.write({
        shifts: [],
        statements: () => [
          run(
            `WITH due AS (
               SELECT ${duePushColumns('$1::bigint')} FROM pushes p ${DUE_PUSH_JOINS}
               WHERE p.state IN ('due', 'sending') AND p.due_at <= $1
               ORDER BY p.due_at, p.shift_id, p.emp_id, p.token LIMIT $4
               FOR UPDATE OF p SKIP LOCKED),
             claimed AS (
               UPDATE pushes p SET
                 state = CASE WHEN due.reason IS NULL AND due.d_platform IS NOT NULL
                           THEN 'sending' ELSE 'cancelled' END,
                 due_at = CASE WHEN due.reason IS NULL AND due.d_platform IS NOT NULL
                           THEN $2 ELSE p.due_at END,
                 attempts = p.attempts + CASE WHEN due.reason IS NULL
                           AND due.d_platform IS NOT NULL THEN 1 ELSE 0 END,
                 claim_id = CASE WHEN due.reason IS NULL AND due.d_platform IS NOT NULL
                           THEN $3 END
               FROM due WHERE p.shift_id = due.p_shift_id AND p.emp_id = due.p_emp_id
                 AND p.token = due.p_token)
             SELECT * FROM due ORDER BY p_shift_id, p_emp_id, p_token`,
            [now, leaseUntil, claimId, limit],
          ),
        ],
        finish: ([rows = []]) => splitDuePushes(rows as unknown as DuePushRow[]),
      });
    },

    finishPush(push, claimId, next) {
      return writer.write({
        shifts: [],
        statements: () => [
          run(
            `UPDATE pushes SET state = $5, due_at = COALESCE($6, due_at), claim_id = NULL
             WHERE shift_id = $1 AND emp_id = $2 AND token = $3
               AND state = 'sending' AND claim_id = $4`,
            [
              push.shiftId,
              push.empId,
              push.token,
              claimId,
              next.state,
              next.state === 'due' ? next.dueAt : null,
            ],
          ),
        ],
        finish: ([rows]) => rows?.count === 1,
      });
    },

    async checkWritable() {
      // Queued behind the writes waiting now: a group commit stuck on a lock is not ready.
      await writer.write({
        shifts: [],
        statements: () => [run(PROBE_WRITE)],
        finish: () => undefined,
      });
    },

    async stats(query) {
      // Deliveries noted before the question count.
      await writer.drain();
      return readStats(readStatsRows, query);
    },

    async reset(at) {
      // Lines queued before the reset are cleared with the rest.
      await writer.drain();
      await writer.write({
        shifts: [],
        statements: () => [
          run('TRUNCATE pushes, devices, offers, shifts, employees RESTART IDENTITY'),
          run('DELETE FROM journal'),
          // Journal ids keep growing (the identity is not restarted): a follower asking for
          // ids after the last it saw finds this marker first.
          run(
            `INSERT INTO journal (at, kind, name, outcome)
             VALUES ($1, 'request', 'reset: journal cleared', 'cleared')`,
            [at],
          ),
        ],
        finish: () => undefined,
      });
    },

    seedIfEmpty,

    async close() {
      await writer.close();
      await sql.end({ timeout: 5 });
    },
  };
  return store;
}

/** Advisory lock class of push token registrations (the second key is the employee's). */
const DEVICE_LOCK = 0x53_48_49_4a;

/**
 * Registers a push token: refreshed when this employee has it, moved when another had it.
 * `created` comes from whether the row was inserted (`xmax = 0`) or taken from another employee.
 */
const UPSERT_DEVICE = `
  WITH prior AS (SELECT emp_id FROM devices WHERE token = $1),
  up AS (
    INSERT INTO devices (token, emp_id, platform, registered_at, seen_at)
    VALUES ($1, $2, $3, $4, $4)
    ON CONFLICT (token) DO UPDATE SET platform = excluded.platform, seen_at = excluded.seen_at,
      registered_at = CASE WHEN devices.emp_id = excluded.emp_id THEN devices.registered_at
                           ELSE excluded.registered_at END,
      emp_id = excluded.emp_id
    RETURNING ${DEVICE_COLUMNS}, (xmax = 0) AS inserted)
  SELECT up.*, (SELECT emp_id FROM prior) AS prior_emp FROM up`;

/** The employee's tokens beyond the cap, least recently registered first; never the new one. */
const EVICT_DEVICES = `
  DELETE FROM devices WHERE emp_id = $1 AND token IN (
    SELECT token FROM devices WHERE emp_id = $1
    ORDER BY token = $2 DESC, seen_at DESC, token DESC OFFSET $3)`;

const UPSERT_EMPLOYEES = `
  INSERT INTO employees (id, name, role)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
  ON CONFLICT (id) DO UPDATE SET name = COALESCE(excluded.name, employees.name),
    role = COALESCE(excluded.role, employees.role)`;

/** One row per id (a statement may not upsert a row twice), later values over earlier ones. */
function mergeEmployees(employees: Employee[]): Employee[] {
  const byId = new Map<number, Employee>();
  for (const e of employees) {
    const before = byId.get(e.id);
    byId.set(e.id, {
      id: e.id,
      name: e.name ?? before?.name ?? null,
      role: e.role ?? before?.role ?? null,
    });
  }
  // In id order, so that two instances upserting the same employees lock them in one order.
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

function employeeParams(employees: Employee[]): unknown[] {
  return [
    employees.map((e) => e.id),
    employees.map((e) => e.name ?? null),
    employees.map((e) => e.role ?? null),
  ];
}
