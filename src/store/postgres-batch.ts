/**
 * Group commit for the PostgreSQL store. The writes queued while a batch is in flight go
 * together in the next one: one `sql.batch` (one round trip, one implicit transaction, one
 * commit), so a busy server pays a commit per batch instead of one per request, as the SQLite
 * store pays one per tick. One batch is in flight at a time, which keeps journal ids in the
 * order lines were queued.
 *
 * Every batch first locks the rows of the shifts its writes touch, in id order. Each write
 * then runs as a statement of its own, on a snapshot taken after those locks: it sees every
 * offer other instances wrote for those shifts, and as every write to an offer happens under
 * its shift's lock, batches of several instances never wait on each other in a cycle.
 */
import type { PendingQuery, Row, RowList, Sql } from 'postgres';
import { ShiftctlError } from '../errors.js';
import { type StreakWarn, streak } from '../streak.js';
import { unavailable } from '../unavailable.js';
import type { JournalInput } from './types.js';

/** One write: its statements run in order, inside the batch's transaction. */
export interface Write<T> {
  /** Shifts whose rows it reads and writes; locked for it at the start of the batch. */
  shifts: readonly number[];
  /** For closing deadlines: also lock the shifts with an open offer due by this time. */
  due?: number;
  statements(sql: Sql): PendingQuery<Row[]>[];
  /** Turns the statements' rows into the result (or throws the coded error to refuse). */
  finish(results: RowList<Row[]>[]): T | Promise<T>;
}

interface Queued {
  write: Write<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Delivery marks: [shift, employee, time]. */
type Delivered = [number, number, number];

export interface GroupCommit {
  /** Queues a write for the next batch; resolves once it is committed. */
  write<T>(write: Write<T>): Promise<T>;
  markDelivered(shiftId: number, empIds: readonly number[], at: number): void;
  journal(entry: JournalInput): void;
  /** Resolves once everything queued before the call has been written (or has failed). */
  drain(): Promise<void>;
  /** Writes what is queued, then stops. */
  close(): Promise<void>;
}

/** Writes in one batch: PostgreSQL answers a long batch as fast, but holds its locks longer. */
const MAX_WRITES = 256;
/** Journal lines (and delivery marks) kept for a database that is down, at most. */
const MAX_KEPT = 100_000;
/** Bookkeeping that failed on a database that went away is tried again after this long. */
const RETRY_MS = 1000;

/** The rows of a batch's shifts, locked in id order (see the top of this file). */
const LOCK_SHIFTS =
  'SELECT id FROM shifts WHERE id = ANY($1::text::bigint[]) ORDER BY id FOR NO KEY UPDATE';
/** The same, with the shifts of the open offers due by a time (to close them). */
const LOCK_SHIFTS_AND_DUE = `
  SELECT id FROM shifts
  WHERE id = ANY($1::text::bigint[]) OR id IN (
    SELECT shift_id FROM offers WHERE outcome = 'open' AND expires_at <= $2::bigint)
  ORDER BY id FOR NO KEY UPDATE`;

/**
 * How the statements whose best plan hangs on the tables' size run: planned for each batch
 * (an unnamed statement), never from a prepared statement's generic plan. That plan is chosen
 * after five runs, while the tables are still small, and kept until the tables are analyzed: on
 * a fresh database a sequential scan of every shift for each batch's lock, a millisecond a batch
 * once there were 20,000 shifts, more with every shift. Planning them costs tens of microseconds.
 * Their parameters carry their types (see `arrayParam`), or postgres.js would ask the server
 * for them first: a round trip in the middle of the batch.
 */
const PLANNED_EACH_TIME = { prepare: false } as const;
const INT8 = 20;
const TEXT = 25;

/**
 * Lists go as array literals in text (cast to their type in the statement: `$1::text::bigint[]`),
 * their elements written by these: postgres.js serialises an array element by element, which
 * cost a broadcast to 50,000 a fifth of a second of the instance's CPU for its journal lines.
 */
const bare = (value: number | null): string => (value === null ? 'NULL' : String(value));
const quoted = (value: string | null): string =>
  value === null ? 'NULL' : `"${value.replace(/["\\]/g, '\\$&')}"`;

/** Errors that roll the whole batch back through no fault of any one write: try it again. */
const TRANSIENT = new Set(['40001', '40P01']);

/** Server errors that blame the database, not the statement that met them. */
function isInfrastructure(code: string | undefined): boolean {
  if (code === undefined) return true;
  return /^(08|53|57|58|XX)/.test(code);
}

/**
 * A failed write as a coded error: a full disk and a lock held elsewhere past the lock timeout
 * are the SQLite store's `E_STORAGE_FULL` and `E_DATABASE_BUSY` (503: try again later).
 */
function databaseError(err: unknown): ShiftctlError {
  if (err instanceof ShiftctlError) return err;
  const away = unavailable(err);
  if (away) return away;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  if (code === '53100') {
    return new ShiftctlError(
      'E_STORAGE_FULL',
      `The database is full (no space left on its disk): nothing was written. Try again once space is freed. (${message})`,
    );
  }
  if (code === '55P03') {
    return new ShiftctlError(
      'E_DATABASE_BUSY',
      `The database is locked by another session: nothing was written. Try again shortly. (${message})`,
    );
  }
  return new ShiftctlError('E_DATABASE', `The database refused the write: ${message}`);
}

export function createGroupCommit(sql: Sql, log: StreakWarn): GroupCommit {
  let queue: Queued[] = [];
  let delivered: Delivered[] = [];
  let journalQueue: JournalInput[] = [];
  let running = false;
  let scheduled = false;
  let closing = false;
  // Told once when writes start failing, and once when they go through again.
  const outage = streak('Writing to the database', log);
  /** Closed: bookkeeping arriving late (a request still finishing) is dropped. */
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let idle: Array<() => void> = [];

  const empty = () => queue.length === 0 && delivered.length === 0 && journalQueue.length === 0;
  /** Elements (by `bare` or `quoted`, comma-separated) as one array literal, typed text. */
  const arrayParam = (elements: string) => sql.typed(`{${elements}}`, TEXT);

  function schedule(): void {
    if (scheduled || running) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  }

  function journalStatement(lines: JournalInput[]): PendingQuery<Row[]> {
    // A line for many employees (a broadcast's push) repeats all but the employee: each column
    // is written once as an array literal, its repeated values repeated as text.
    const at: string[] = [];
    const kind: string[] = [];
    const emp: string[] = [];
    const shift: string[] = [];
    const name: string[] = [];
    const outcome: string[] = [];
    const detail: string[] = [];
    for (const e of lines) {
      const empIds = e.empIds ?? [e.empId];
      const times = (element: string) => `${element},`.repeat(empIds.length);
      const json = e.detail === undefined || e.detail === null ? null : JSON.stringify(e.detail);
      at.push(times(bare(e.at)));
      kind.push(times(quoted(e.kind)));
      emp.push(`${empIds.map(bare).join(',')},`);
      shift.push(times(bare(e.shiftId)));
      name.push(times(quoted(e.name)));
      outcome.push(times(quoted(e.outcome)));
      detail.push(times(quoted(json)));
    }
    const cols = [at, kind, emp, shift, name, outcome, detail];
    // Identity values are drawn in the order of the ordinality: ids keep the order of events.
    return sql.unsafe(
      `INSERT INTO journal (at, kind, emp_id, shift_id, name, outcome, detail)
       SELECT at, kind, emp_id, shift_id, name, outcome, detail
       FROM unnest($1::text::bigint[], $2::text::text[], $3::text::bigint[], $4::text::bigint[],
         $5::text::text[], $6::text::text[], $7::text::text[])
         WITH ORDINALITY AS j (at, kind, emp_id, shift_id, name, outcome, detail, n)
       ORDER BY n`,
      cols.map((parts) => arrayParam(parts.join('').slice(0, -1))) as never[],
      { prepare: true },
    );
  }

  function deliveredStatement(marks: Delivered[]): PendingQuery<Row[]> {
    return sql.unsafe(
      `UPDATE offers o SET delivered_at = d.at
       FROM (SELECT DISTINCT ON (shift_id, emp_id) shift_id, emp_id, at
             FROM unnest($1::text::bigint[], $2::text::bigint[], $3::text::bigint[]) WITH ORDINALITY
               AS d (shift_id, emp_id, at, n)
             ORDER BY shift_id, emp_id, n) d
       WHERE o.shift_id = d.shift_id AND o.emp_id = d.emp_id AND o.delivered_at IS NULL`,
      [0, 1, 2].map((k) => arrayParam(marks.map((m) => m[k]).join(','))) as never[],
      PLANNED_EACH_TIME,
    );
  }

  /**
   * Runs one batch. A write whose statement fails is refused alone and the rest run again; a
   * deadlock runs the batch again; a database that fails refuses the writes and keeps the
   * bookkeeping for later.
   */
  async function runBatch(
    writes: Queued[],
    marks: Delivered[],
    lines: JournalInput[],
  ): Promise<boolean> {
    let pending = writes;
    let retries = 0;
    for (;;) {
      const shifts = new Set<number>();
      let due: number | null = null;
      for (const q of pending) {
        for (const id of q.write.shifts) shifts.add(id);
        if (q.write.due !== undefined) due = Math.max(due ?? q.write.due, q.write.due);
      }
      for (const [shiftId] of marks) shifts.add(shiftId);
      const queries: PendingQuery<Row[]>[] = [];
      const owners: Array<Queued | 'lock' | 'delivered' | 'journal' | 'setting'> = [];
      if (pending.length === 0) {
        // Bookkeeping alone: not worth waiting for a flush to disk (a crash of PostgreSQL can
        // lose the last moment of it, never corrupt it). Set for the batch's implicit
        // transaction: `SET LOCAL` does the same outside BEGIN but warns every time.
        queries.push(sql`SELECT set_config('synchronous_commit', 'off', true)`);
        owners.push('setting');
      }
      if (shifts.size > 0 || due !== null) {
        const ids = [...shifts].sort((a, b) => a - b);
        queries.push(
          due === null
            ? sql.unsafe(LOCK_SHIFTS, [arrayParam(ids.join(','))] as never[], PLANNED_EACH_TIME)
            : sql.unsafe(
                LOCK_SHIFTS_AND_DUE,
                [arrayParam(ids.join(',')), sql.typed(due, INT8)] as never[],
                PLANNED_EACH_TIME,
              ),
        );
        owners.push('lock');
      }
      const spans: Array<[number, number]> = [];
      for (const q of pending) {
        const start = queries.length;
        for (const statement of q.write.statements(sql)) {
          queries.push(statement);
          owners.push(q);
        }
        spans.push([start, queries.length]);
      }
      if (marks.length > 0) {
        queries.push(deliveredStatement(marks));
        owners.push('delivered');
      }
      if (lines.length > 0) {
        queries.push(journalStatement(lines));
        owners.push('journal');
      }
      if (queries.length === 0) return true;
      let results: RowList<Row[]>[];
      try {
        results = (await sql.batch(queries)) as RowList<Row[]>[];
      } catch (err) {
        const code = (err as { code?: string }).code;
        const index = (err as { index?: number }).index;
        const owner = index === undefined ? undefined : owners[index];
        const server = (err as { name?: string }).name === 'PostgresError';
        if (server && code !== undefined && TRANSIENT.has(code) && retries++ < 5) continue;
        if (server && !isInfrastructure(code) && owner !== undefined && owner !== 'lock') {
          if (owner === 'journal' || owner === 'delivered' || owner === 'setting') {
            log(`dropped ${owner} lines the database refused: ${(err as Error).message}`);
            if (owner === 'journal') lines = [];
            else if (owner === 'delivered') marks = [];
            continue;
          }
          owner.reject(databaseError(err));
          pending = pending.filter((q) => q !== owner);
          continue;
        }
        for (const q of pending) q.reject(databaseError(err));
        if (closing) {
          log(`journal and delivery marks not written: ${(err as Error).message}`);
        } else {
          outage.failed(err);
          // In front of what was queued since, so that journal ids keep the order of events;
          // a database down for long costs the oldest lines, not the process's memory.
          delivered = [...marks, ...delivered].slice(-MAX_KEPT);
          journalQueue = [...lines, ...journalQueue];
          if (journalQueue.length > MAX_KEPT) {
            log(`dropped ${journalQueue.length - MAX_KEPT} journal lines kept too long`);
            journalQueue = journalQueue.slice(-MAX_KEPT);
          }
        }
        return false;
      }
      outage.succeeded();
      pending.forEach((q, i) => {
        const [start, end] = spans[i] ?? [0, 0];
        try {
          q.resolve(q.write.finish(results.slice(start, end)));
        } catch (err) {
          q.reject(err);
        }
      });
      return true;
    }
  }

  async function flush(): Promise<void> {
    if (running) return;
    running = true;
    try {
      while (!empty()) {
        const writes = queue.slice(0, MAX_WRITES);
        queue = queue.slice(writes.length);
        const marks = delivered;
        const lines = journalQueue;
        delivered = [];
        journalQueue = [];
        if (!(await runBatch(writes, marks, lines))) {
          if (queue.length > 0) continue;
          if (!closing && !empty() && retryTimer === undefined) {
            retryTimer = setTimeout(() => {
              retryTimer = undefined;
              void flush();
            }, RETRY_MS);
            retryTimer.unref();
          }
          break;
        }
      }
    } catch (err) {
      // runBatch settles every write itself; this is a bug, never a reason to stop the process.
      log(`group commit failed: ${(err as Error).stack ?? String(err)}`);
    } finally {
      running = false;
      // What is left waits for the retry; those draining do not wait for a database that failed.
      const waiting = idle;
      idle = [];
      for (const done of waiting) done();
    }
  }

  return {
    write<T>(write: Write<T>): Promise<T> {
      if (closing) {
        return Promise.reject(new ShiftctlError('E_DATABASE', 'The database is closed.'));
      }
      return new Promise<T>((resolve, reject) => {
        queue.push({
          write: write as Write<unknown>,
          resolve: resolve as (v: unknown) => void,
          reject,
        });
        schedule();
      });
    },
    markDelivered(shiftId, empIds, at) {
      if (closed) return;
      for (const empId of empIds) delivered.push([shiftId, empId, at]);
      if (empIds.length > 0) schedule();
    },
    journal(entry) {
      if (closed || entry.empIds?.length === 0) return;
      journalQueue.push(entry);
      schedule();
    },
    drain() {
      if (!running && empty()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idle.push(resolve);
        if (!running) schedule();
      });
    },
    async close() {
      // From here on a failure drops the bookkeeping instead of keeping it for a retry.
      closing = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      await this.drain();
      closed = true;
    },
  };
}
