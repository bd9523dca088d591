/**
 * The SQLite store's analytics. SQLite has no percentile function, and its window functions
 * sort a million answers slowly; so the offers and shifts are read once, a range of shift ids
 * at a time, as a few compact columns (one JSON array per column and range: SQLite builds it
 * in C, V8 parses it in one call), and added up here: counts per group, durations into typed
 * arrays sorted per group, medians and 90th percentiles interpolated as PostgreSQL's
 * percentile_cont does (the same double arithmetic, so both stores give the same figures).
 *
 * Between ranges the event loop runs: the server goes on serving (answers, deliveries,
 * health checks) while a question over a million offers adds up, on its one connection.
 */
import type Database from 'better-sqlite3';
import { ShiftctlError } from '../errors.js';
import { GROUP_COLUMN, NO_END, NO_START, spreadOf } from './stats-sql.js';
import type { OfferStats, ShiftStats, Spread, Stats, StatsGroup, StatsQuery } from './types.js';

/** Offers read per step, by default: a few tens of milliseconds of the connection's time. */
export const STATS_CHUNK_OFFERS = 50_000;

/** What each offer's `flags` carries, one bit each. */
const DELIVERED = 1;
const ACCEPTED = 2;
const REJECTED = 4;
const EXPIRED = 8;
const ASSIGNED = 16;
/** Open, queued or awaiting approval: could still fill its shift. */
const LIVE = 32;

/** One small integer per offer (a CASE is cheaper for SQLite than an aggregate per figure). */
const FLAGS = `(o.delivered_at IS NOT NULL)
  + CASE o.response WHEN 'accepted' THEN ${ACCEPTED} WHEN 'rejected' THEN ${REJECTED} ELSE 0 END
  + CASE o.outcome WHEN 'expired' THEN ${EXPIRED} WHEN 'assigned' THEN ${ASSIGNED}
      WHEN 'open' THEN ${LIVE} WHEN 'queued' THEN ${LIVE} WHEN 'requested' THEN ${LIVE} ELSE 0 END`;

/**
 * The offers of a range of shifts, every one (those sent outside the window still tell when
 * their shift was first offered and accepted), along the offers' primary key: a column each.
 * An answer comes as its time from sending (fewer digits to write and parse than a time).
 */
const offersIn = (byEmployee: boolean) => `
  SELECT json_group_array(o.shift_id), json_group_array(o.sent_at),
    json_group_array(o.answered_at - o.sent_at), json_group_array(${FLAGS})
    ${byEmployee ? ', json_group_array(o.emp_id)' : ''}
  FROM offers o WHERE o.shift_id >= @a AND o.shift_id < @b`;

/** The shifts of a range of ids, with the grouping's column when it is the shift's. */
const shiftsIn = (key: string | undefined) => `
  SELECT json_group_array(s.id), json_group_array(s.status), json_group_array(s.closed_at),
    json_group_array(s.created_at) ${key === undefined ? '' : `, json_group_array(${key})`}
  FROM shifts s WHERE s.id >= @a AND s.id < @b`;

/** A growing list of durations; its median and p90 picked once at the end. */
class Durations {
  private values = new Float64Array(16);
  private n = 0;

  push(d: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.n * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = d;
  }

  spread(): Spread {
    return spreadOf(this.values, this.n);
  }
}

/** One group's running figures (the total is one too). */
class Tally {
  readonly offers = { sent: 0, delivered: 0, answered: 0, accepted: 0, rejected: 0 };
  expired = 0;
  assigned = 0;
  readonly response = new Durations();
  readonly shifts = { offered: 0, filled: 0, unfilled: 0, withdrawn: 0, open: 0 };
  readonly firstAccept = new Durations();
  readonly fill = new Durations();

  /** An offer sent in the window; `waited`: from sending to its answer (null: unanswered). */
  offer(flags: number, waited: number | null): void {
    const o = this.offers;
    o.sent++;
    if (flags & DELIVERED) o.delivered++;
    if (flags & ACCEPTED) o.accepted++;
    if (flags & REJECTED) o.rejected++;
    if (flags & EXPIRED) this.expired++;
    if (flags & ASSIGNED) this.assigned++;
    if (waited !== null) {
      o.answered++;
      this.response.push(waited);
    }
  }

  shift(
    status: string,
    closedAt: number | null,
    firstSent: number,
    firstAccept: number,
    live: number,
  ) {
    const s = this.shifts;
    s.offered++;
    if (status === 'assigned') s.filled++;
    else if (status === 'withdrawn') s.withdrawn++;
    else if (status === 'open' && live > 0) s.open++;
    else if (status === 'unfilled' || status === 'open') s.unfilled++;
    if (firstAccept !== Number.POSITIVE_INFINITY) this.firstAccept.push(firstAccept - firstSent);
    if (status === 'assigned' && closedAt !== null) this.fill.push(closedAt - firstSent);
  }

  offerStats(): OfferStats {
    return {
      ...this.offers,
      expired: this.expired,
      assigned: this.assigned,
      responseMs: this.response.spread(),
    };
  }

  shiftStats(): ShiftStats {
    return {
      ...this.shifts,
      firstAcceptMs: this.firstAccept.spread(),
      fillMs: this.fill.spread(),
    };
  }
}

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
  const columns = (sql: string, range: { a: number; b: number }): unknown[][] =>
    (statement(sql).raw().get(range) as string[]).map((column) => JSON.parse(column) as unknown[]);
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

    const total = new Tally();
    const groups = new Map<string | number | null, Tally>();
    const groupOf = (key: string | number | null): Tally => {
      let group = groups.get(key);
      if (!group) {
        group = new Tally();
        groups.set(key, group);
      }
      return group;
    };

    let a = firstShift();
    const last = lastShift();
    while (a !== null && last !== null && a <= last) {
      const next = shiftAfter(a);
      // A range ends where `chunk` more offers begin; one shift with more is a range alone.
      const b = next === undefined ? last + 1 : Math.max(next, a + 1);
      const range = { a, b };
      const [ids, statuses, closed, created, keys] = columns(shiftsSql, range) as [
        number[],
        string[],
        Array<number | null>,
        number[],
        Array<string | null> | undefined,
      ];
      const [shiftIds, sent, waited, flags, employees] = columns(offersSql, range) as [
        number[],
        Array<number | null>,
        Array<number | null>,
        number[],
        number[] | undefined,
      ];
      const index = new Map<number, number>();
      for (let i = 0; i < ids.length; i++) index.set(ids[i] as number, i);
      const firstSent = new Float64Array(ids.length).fill(Number.POSITIVE_INFINITY);
      const firstAccept = new Float64Array(ids.length).fill(Number.POSITIVE_INFINITY);
      const live = new Uint32Array(ids.length);
      /** Each shift's group, looked up once (its offers come together). */
      const tallies: Array<Tally | undefined> = [];
      const tallyOf = (s: number): Tally => {
        let tally = tallies[s];
        if (tally === undefined) {
          tally = groupOf(keys?.[s] ?? null);
          tallies[s] = tally;
        }
        return tally;
      };
      for (let i = 0; i < shiftIds.length; i++) {
        const s = index.get(shiftIds[i] as number) as number;
        const f = flags[i] as number;
        const at = sent[i] as number | null;
        const wait = waited[i] as number | null;
        if (f & LIVE) live[s] = (live[s] as number) + 1;
        if (at === null) continue;
        if (f & ACCEPTED && wait !== null && at + wait < (firstAccept[s] as number)) {
          firstAccept[s] = at + wait;
        }
        if (at < (firstSent[s] as number)) firstSent[s] = at;
        if (at < from || at >= to) continue;
        total.offer(f, wait);
        if (employees) groupOf(employees[i] as number).offer(f, wait);
        else if (keys) tallyOf(s).offer(f, wait);
      }
      for (let s = 0; s < ids.length; s++) {
        const first = firstSent[s] as number;
        const createdAt = created[s] as number;
        if (first === Number.POSITIVE_INFINITY) continue;
        if (windowed && (createdAt < from || createdAt >= to)) continue;
        const figures = [
          statuses[s] as string,
          closed[s] as number | null,
          first,
          firstAccept[s] as number,
          live[s] as number,
        ] as const;
        total.shift(...figures);
        if (keys) tallyOf(s).shift(...figures);
      }
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

    const totalGroup: StatsGroup = {
      key: null,
      offers: total.offerStats(),
      shifts: total.shiftStats(),
    };
    if (by === undefined) return { total: totalGroup };
    return {
      total: totalGroup,
      groups: [...groups].map(([key, tally]) => {
        const group: StatsGroup = {
          key,
          offers: tally.offerStats(),
          shifts: byEmployee ? null : tally.shiftStats(),
        };
        if (byEmployee) group.name = nameOf(key as number);
        return group;
      }),
    };
  }

  return { stats };
}
