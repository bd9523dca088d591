/**
 * Group commit for the SQLite store, and the bookkeeping (delivery marks, journal lines) that
 * rides along with its batches.
 */
import type Database from 'better-sqlite3';
import { ShiftctlError } from '../errors.js';
import { storageError } from './sqlite-schema.js';
import type { JournalInput } from './types.js';

/** Journal lines written by one statement. */
const JOURNAL_CHUNK = 16;

/** The bookkeeping statements: delivery marks and journal lines. */
export type BookkeepingStatements = Record<
  | 'markDelivered'
  | 'markDeliveredMany'
  | 'insertJournal'
  | 'insertJournalChunk'
  | 'insertJournalMany',
  Database.Statement
>;

export function prepareBookkeeping(db: Database.Database): BookkeepingStatements {
  return {
    markDelivered: db.prepare(`
      UPDATE offers SET delivered_at = ?
      WHERE shift_id = ? AND emp_id = ? AND delivered_at IS NULL`),
    markDeliveredMany: db.prepare(`
      UPDATE offers SET delivered_at = ?
      WHERE shift_id = ? AND delivered_at IS NULL AND emp_id IN (SELECT value FROM json_each(?))`),
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
  };
}

export interface GroupCommit {
  /** Queues a write for the next group commit; resolves once it is committed. */
  write<T>(run: () => T): Promise<T>;
  /** Queues delivery marks for the next batch (bookkeeping: nobody waits for them). */
  markDelivered(shiftId: number, empIds: readonly number[], at: number): void;
  /** Queues a journal line for the next batch (bookkeeping: nobody waits for it). */
  journal(entry: JournalInput): void;
  /** Commits what is queued now, without waiting for the next turn of the event loop. */
  flush(): void;
}

export function createGroupCommit(
  db: Database.Database,
  stmt: BookkeepingStatements,
  warn: ((message: string, fields?: Record<string, unknown>) => void) | undefined,
): GroupCommit {
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
      warn?.(
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
      warn?.('journal lines and delivery marks are written again', { dropped });
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
  return {
    write,
    markDelivered(shiftId, empIds, at) {
      if (empIds.length === 0) return;
      deliveredQueue.push([shiftId, at, empIds]);
      scheduleFlush();
    },
    journal(entry) {
      journalQueue.push(entry);
      scheduleFlush();
    },
    flush,
  };
}
