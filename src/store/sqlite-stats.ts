/**
 * The SQLite store's analytics. SQLite has no percentile function, and its window functions
 * sort a million answers slowly; so the offers and shifts are read once, a range of shift ids
 * at a time, as a few compact columns (one JSON array per column and range: SQLite builds it
 * in C, V8 parses it in one call), and added up by sqlite-stats-tally.ts: counts per group,
 * durations into typed arrays, medians and 90th percentiles interpolated as PostgreSQL's
 * percentile_cont does (stats-sql.ts, which the PostgreSQL store uses too). In the server that
 * adding up runs in a worker thread, a range behind SQLite's reading: the two take turns on
 * two cores instead of one after the other on one.
 *
 * Between ranges the event loop runs: the server goes on serving (answers, deliveries,
 * health checks) while a question over a million offers adds up, on its one connection.
 */
import type Database from 'better-sqlite3';
import { ShiftctlError } from '../errors.js';
import {
  ACCEPTED,
  ANSWERED,
  ASSIGNED,
  EXPIRED,
  FLAG_SPAN,
  LIVE,
  REJECTED,
  startTally,
} from './sqlite-stats-tally.js';
import { GROUP_COLUMN, NO_END, NO_START } from './stats-sql.js';
import type { Stats, StatsQuery } from './types.js';

/** Offers read per step, by default: a few tens of milliseconds of the connection's time. */
export const STATS_CHUNK_OFFERS = 50_000;

/**
 * One small integer per offer (a CASE is cheaper for SQLite than an aggregate per figure), its
 * commonest outcomes first: most offers of a broadcast end taken by another.
 */
const FLAGS = `(o.delivered_at IS NOT NULL)
  + CASE o.response WHEN 'rejected' THEN ${REJECTED} WHEN 'accepted' THEN ${ACCEPTED} ELSE 0 END
  + CASE o.outcome WHEN 'taken' THEN 0 WHEN 'rejected' THEN 0 WHEN 'assigned' THEN ${ASSIGNED}
      WHEN 'expired' THEN ${EXPIRED} WHEN 'open' THEN ${LIVE} WHEN 'queued' THEN ${LIVE}
      WHEN 'requested' THEN ${LIVE} ELSE 0 END`;

/**
 * The offers of a range of shifts, every one (those sent outside the window still tell when
 * their shift was first offered and accepted), along the offers' primary key: a column each.
 * An answer's time from sending (fewer digits than a time) and the flags share one number,
 * wait * FLAG_SPAN + ANSWERED + flags: a column fewer for SQLite to write and V8 to parse,
 * exact while the wait is under 2^46 ms (two thousand years).
 */
const offersIn = (byEmployee: boolean) => `
  SELECT json_group_array(o.shift_id), json_group_array(o.sent_at),
    json_group_array(
      coalesce((o.answered_at - o.sent_at) * ${FLAG_SPAN} + ${ANSWERED}, 0) + ${FLAGS})
    ${byEmployee ? ', json_group_array(o.emp_id)' : ''}
  FROM offers o WHERE o.shift_id >= @a AND o.shift_id < @b`;

/** The shifts of a range of ids, with the grouping's column when it is the shift's. */
const shiftsIn = (key: string | undefined) => `
  SELECT json_group_array(s.id), json_group_array(s.status), json_group_array(s.closed_at),
    json_group_array(s.created_at) ${key === undefined ? '' : `, json_group_array(${key})`}
  FROM shifts s WHERE s.id >= @a AND s.id < @b`;

export interface StatsOptions {
  /** Offers read per step (STATS_CHUNK_OFFERS by default; tests use fewer). */
  chunkOffers?: number;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function prepareStats(db: Database.Database, options: StatsOptions = {}) {
  const chunk = options.chunkOffers ?? STATS_CHUNK_OFFERS;
  // Prepared once each, on first use: most servers never ask.
  const prepared = new Map<string, Database.Statement>();
  const statement = (sql: string): Database.Statement => {
    let stmt = prepared.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      prepared.set(sql, stmt);
    }
    return stmt;
  };
  const firstShift = () =>
    statement('SELECT MIN(shift_id) FROM offers').pluck().get() as number | null;
  const lastShift = () =>
    statement('SELECT MAX(shift_id) FROM offers').pluck().get() as number | null;
  /** The shift id `chunk` offers on from the first of shift `a` (null: fewer are left). */
  const shiftAfter = (a: number) =>
    statement('SELECT shift_id FROM offers WHERE shift_id >= ? ORDER BY shift_id LIMIT 1 OFFSET ?')
      .pluck()
      .get(a, chunk) as number | undefined;
  /** A statement's columns over a range, one JSON array each, as SQLite wrote them. */
  const columns = (sql: string, range: { a: number; b: number }): string[] =>
    statement(sql).raw().get(range) as string[];
  const nameOf = (id: number) =>
    (statement('SELECT name FROM employees WHERE id = ?').pluck().get(id) as string | undefined) ??
    null;

  async function stats(query: StatsQuery): Promise<Stats> {
    const from = query.from ?? NO_START;
    const to = query.to ?? NO_END;
    const windowed = query.from !== undefined || query.to !== undefined;
    const by = query.by;
    const byEmployee = by === 'employee';
    const shiftKey = by === undefined || byEmployee ? undefined : GROUP_COLUMN[by];
    const offersSql = offersIn(byEmployee);
    const shiftsSql = shiftsIn(shiftKey);

    const tally = startTally({ from, to, windowed, byEmployee });
    try {
      let a = firstShift();
      const last = lastShift();
      while (a !== null && last !== null && a <= last) {
        const next = shiftAfter(a);
        // A range ends where `chunk` more offers begin; one shift with more is a range alone.
        const b = next === undefined ? last + 1 : Math.max(next, a + 1);
        const range = { a, b };
        tally.add(columns(shiftsSql, range), columns(offersSql, range));
        a = b;
        // Let the server answer what came in meanwhile; then go on, on the same connection.
        await nextTurn();
        if (!db.open) {
          throw new ShiftctlError(
            'E_UNAVAILABLE',
            'The server is shutting down: the stats were not finished.',
          );
        }
      }
      const { total, groups } = await tally.figures();
      if (by === undefined) return { total };
      if (byEmployee) for (const group of groups) group.name = nameOf(group.key as number);
      return { total, groups };
    } finally {
      tally.close();
    }
  }

  return { stats };
}
