/**
 * The SQLite store's journal, as read and trimmed (its lines are written by the group commit's
 * bookkeeping), and the reset that clears every table but keeps journal ids growing.
 */
import type Database from 'better-sqlite3';
import type { JournalEntry, JournalFilter, JournalLimits } from './types.js';

export function prepareJournal(db: Database.Database, insertJournal: Database.Statement) {
  const stmt = {
    insertJournal,
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

  function reset(at: number): void {
    const lastId = db.prepare('SELECT COALESCE(MAX(id), 0) FROM journal').pluck().get() as number;
    for (const table of ['journal', 'pushes', 'devices', 'offers', 'shifts', 'employees']) {
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

  function readJournal(filter: JournalFilter): JournalEntry[] {
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
  }

  return { readJournal, trimJournal, reset };
}
