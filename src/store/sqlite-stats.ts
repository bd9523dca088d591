/**
 * The SQLite store's analytics: counts by aggregates, and medians and 90th percentiles by
 * window functions, picking the rows at the percentile's offsets and interpolating between
 * them as PostgreSQL's percentile_cont does (the same double arithmetic, so both stores give
 * the same figures). Nothing but the few rows per group leaves the database.
 */
import type Database from 'better-sqlite3';
import {
  GROUP_COLUMN,
  groupsOf,
  MEDIAN,
  NO_END,
  NO_SPREAD,
  NO_START,
  type OfferCountRow,
  offerStatsOf,
  P90,
  type ShiftCountRow,
  type Spreads,
  shiftStatsOf,
  spreadsOf,
} from './stats-sql.js';
import type { Stats, StatsGrouping, StatsQuery } from './types.js';

/** `p * (n - 1)`: where percentile p of n ordered values falls, counted from 0. */
const at = (p: number) => `(${p} * (n - 1))`;
/** The offset below (or at) it, and the one above (the same when it falls on a row). */
const below = (p: number) => `CAST(${at(p)} AS INTEGER)`;
const above = (p: number) => `(${below(p)} + (${at(p)} > ${below(p)}))`;
const lerp = (p: number, name: string) =>
  `${name}_lo + (${at(p)} - ${below(p)}) * (${name}_hi - ${name}_lo)`;

/**
 * Median and p90 of `d` per `k`, from a query giving (k, d) with d not null. Each group's
 * values are numbered in order once (one sort); only the rows at the two offsets of each
 * percentile are kept. With `count`, an expression for how many values there are (one group:
 * the total), the numbering alone is needed, without counting each partition over again: a
 * quarter less work on a million offers.
 */
function percentiles(values: string, count?: string): string {
  const numbered =
    count === undefined
      ? `SELECT k, d, ROW_NUMBER() OVER w - 1 AS i, COUNT(*) OVER w AS n FROM (${values})
        WINDOW w AS (PARTITION BY k ORDER BY d
          ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)`
      : `SELECT k, d, ROW_NUMBER() OVER (ORDER BY d) - 1 AS i, ${count} AS n FROM (${values})`;
  return `
    SELECT k, ${lerp(MEDIAN, 'm')} AS median, ${lerp(P90, 'p')} AS p90 FROM (
      SELECT k, n,
        MAX(CASE WHEN i = ${below(MEDIAN)} THEN d END) AS m_lo,
        MAX(CASE WHEN i = ${above(MEDIAN)} THEN d END) AS m_hi,
        MAX(CASE WHEN i = ${below(P90)} THEN d END) AS p_lo,
        MAX(CASE WHEN i = ${above(P90)} THEN d END) AS p_hi
      FROM (${numbered})
      WHERE i = ${below(MEDIAN)} OR i = ${above(MEDIAN)} OR i = ${below(P90)} OR i = ${above(P90)}
      GROUP BY k)`;
}

/**
 * Offers sent in the window, with the shift's columns when the key needs them. The shifts are
 * walked first (CROSS JOIN fixes the order in SQLite): each one's offers are a range of the
 * offers' primary key, where looking each offer's shift up would be a search per offer.
 */
function sentOffers(key: string): string {
  const from = key.startsWith('s.')
    ? 'shifts s CROSS JOIN offers o ON o.shift_id = s.id'
    : 'offers o';
  return `${from} WHERE o.sent_at >= @from AND o.sent_at < @to`;
}

const COUNTS = `COUNT(*) AS sent, COUNT(o.delivered_at) AS delivered,
  COUNT(o.answered_at) AS answered,
  COUNT(CASE WHEN o.response = 'accepted' THEN 1 END) AS accepted,
  COUNT(CASE WHEN o.response = 'rejected' THEN 1 END) AS rejected,
  COUNT(CASE WHEN o.outcome = 'expired' THEN 1 END) AS expired,
  COUNT(CASE WHEN o.outcome = 'assigned' THEN 1 END) AS assigned`;

/**
 * Offer counts per key (one row, without a key); with the employee's name by employee. By a
 * shift's detail, counted per shift first (its offers come together, so that needs no sort)
 * and then per key, over a tenth as many rows.
 */
export function offerCounts(key: string): string {
  if (key === 'NULL') return `SELECT NULL AS k, ${COUNTS} FROM ${sentOffers(key)}`;
  if (key === GROUP_COLUMN.employee) {
    return `
      SELECT c.*, e.name AS name FROM (
        SELECT ${key} AS k, ${COUNTS} FROM ${sentOffers(key)} GROUP BY k) c
      LEFT JOIN employees e ON e.id = c.k`;
  }
  return `
    SELECT k, SUM(sent) AS sent, SUM(delivered) AS delivered, SUM(answered) AS answered,
      SUM(accepted) AS accepted, SUM(rejected) AS rejected, SUM(expired) AS expired,
      SUM(assigned) AS assigned
    FROM (SELECT ${key} AS k, ${COUNTS} FROM ${sentOffers(key)} GROUP BY s.id)
    GROUP BY k`;
}

/** Response times per key; for the total, `@n` is how many offers were answered. */
export function responseTimes(key: string): string {
  return percentiles(
    `SELECT ${key} AS k, o.answered_at - o.sent_at AS d
     FROM ${sentOffers(key)} AND o.answered_at IS NOT NULL`,
    key === 'NULL' ? '@n' : undefined,
  );
}

/**
 * Each shift created in the window that was offered (an offer of it sent): its key, status,
 * first offer sent, first acceptance, and how many of its offers could still fill it.
 */
function perShift(key: string): string {
  return `
    SELECT ${key} AS k, s.status AS status, s.closed_at AS closed_at,
      MIN(o.sent_at) AS first_sent,
      MIN(CASE WHEN o.response = 'accepted' THEN o.answered_at END) AS first_accept,
      COUNT(CASE WHEN o.outcome = 'open' OR o.outcome = 'requested' OR o.outcome = 'queued'
        THEN 1 END) AS live
    FROM shifts s CROSS JOIN offers o ON o.shift_id = s.id
    WHERE s.created_at >= @from AND s.created_at < @to
    GROUP BY s.id HAVING MIN(o.sent_at) IS NOT NULL`;
}

/** Shift counts and both durations per key, over one pass of perShift. */
export function shiftFigures(key: string): string {
  const total = key === 'NULL';
  return `
    WITH per_shift AS MATERIALIZED (${perShift(key)}),
    counts AS (
      SELECT k, COUNT(*) AS offered,
        COUNT(CASE WHEN status = 'assigned' THEN 1 END) AS filled,
        COUNT(CASE WHEN status = 'unfilled' OR (status = 'open' AND live = 0) THEN 1 END)
          AS unfilled,
        COUNT(CASE WHEN status = 'withdrawn' THEN 1 END) AS withdrawn,
        COUNT(CASE WHEN status = 'open' AND live > 0 THEN 1 END) AS open
      FROM per_shift${key === 'NULL' ? '' : ' GROUP BY k'}),
    first_accept AS (${percentiles(
      'SELECT k, first_accept - first_sent AS d FROM per_shift WHERE first_accept IS NOT NULL',
      total ? '(SELECT COUNT(first_accept) FROM per_shift)' : undefined,
    )}),
    fill AS (${percentiles(
      "SELECT k, closed_at - first_sent AS d FROM per_shift WHERE status = 'assigned'",
      total ? "(SELECT COUNT(*) FROM per_shift WHERE status = 'assigned')" : undefined,
    )})
    SELECT c.*, a.median AS a_median, a.p90 AS a_p90, f.median AS f_median, f.p90 AS f_p90
    FROM counts c LEFT JOIN first_accept a ON a.k IS c.k LEFT JOIN fill f ON f.k IS c.k`;
}

type ShiftFigureRow = ShiftCountRow & {
  a_median: number | null;
  a_p90: number | null;
  f_median: number | null;
  f_p90: number | null;
};

export function prepareStats(db: Database.Database) {
  const keyOf = (by: StatsGrouping | 'total') => (by === 'total' ? 'NULL' : GROUP_COLUMN[by]);
  // Prepared once each, on first use: most servers never ask.
  const prepared = new Map<string, Database.Statement>();
  const statement = (name: string, sql: () => string): Database.Statement => {
    let stmt = prepared.get(name);
    if (!stmt) {
      stmt = db.prepare(sql());
      prepared.set(name, stmt);
    }
    return stmt;
  };
  const offerCountsFor = (by: StatsGrouping | 'total') =>
    statement(`offers:${by}`, () => offerCounts(keyOf(by)));
  const responseFor = (by: StatsGrouping | 'total') =>
    statement(`response:${by}`, () => responseTimes(keyOf(by)));
  const shiftsFor = (by: StatsGrouping | 'total') =>
    statement(`shifts:${by}`, () => shiftFigures(keyOf(by)));

  function shiftSpreads(rows: ShiftFigureRow[]): { firstAccept: Spreads; fill: Spreads } {
    return {
      firstAccept: spreadsOf(rows.map((r) => ({ k: r.k, median: r.a_median, p90: r.a_p90 }))),
      fill: spreadsOf(rows.map((r) => ({ k: r.k, median: r.f_median, p90: r.f_p90 }))),
    };
  }

  /** The total of offer counts per group: every sent offer is in exactly one group. */
  function sum(rows: readonly OfferCountRow[]): OfferCountRow {
    const total: OfferCountRow = {
      k: null,
      sent: 0,
      delivered: 0,
      answered: 0,
      accepted: 0,
      rejected: 0,
      expired: 0,
      assigned: 0,
    };
    for (const r of rows) {
      total.sent += r.sent;
      total.delivered += r.delivered;
      total.answered += r.answered;
      total.accepted += r.accepted;
      total.rejected += r.rejected;
      total.expired += r.expired;
      total.assigned += r.assigned;
    }
    return total;
  }

  return {
    stats(query: StatsQuery): Stats {
      const window = { from: query.from ?? NO_START, to: query.to ?? NO_END };
      const by = query.by;
      // Grouped, the total's counts are the groups' added up: one pass over the offers less.
      const groupOffers =
        by === undefined ? undefined : (offerCountsFor(by).all(window) as OfferCountRow[]);
      const offers = groupOffers
        ? sum(groupOffers)
        : (offerCountsFor('total').get(window) as OfferCountRow);
      const response = responseFor('total').get({ ...window, n: offers.answered }) as
        | { median: number | null; p90: number | null }
        | undefined;
      const [shifts] = shiftsFor('total').all(window) as ShiftFigureRow[];
      const total = {
        key: null,
        offers: offerStatsOf(
          offers,
          response ? { median: response.median, p90: response.p90 } : NO_SPREAD,
        ),
        shifts: shiftStatsOf(
          shifts,
          { median: shifts?.a_median ?? null, p90: shifts?.a_p90 ?? null },
          { median: shifts?.f_median ?? null, p90: shifts?.f_p90 ?? null },
        ),
      };
      if (by === undefined || groupOffers === undefined) return { total };
      const groupResponse = spreadsOf(
        responseFor(by).all(window) as Array<{
          k: string | number | null;
          median: number | null;
          p90: number | null;
        }>,
      );
      if (by === 'employee') {
        const groups = groupsOf(groupOffers, groupResponse, undefined, new Map(), new Map());
        return { total, groups };
      }
      const shiftRows = shiftsFor(by).all(window) as ShiftFigureRow[];
      const { firstAccept, fill } = shiftSpreads(shiftRows);
      return {
        total,
        groups: groupsOf(groupOffers, groupResponse, shiftRows, firstAccept, fill),
      };
    },
  };
}
