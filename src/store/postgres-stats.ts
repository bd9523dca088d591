/**
 * The PostgreSQL store's analytics: counts by aggregates, medians and 90th percentiles by
 * percentile_cont, one statement for the offers and one for the shifts of each grouping.
 * SQLite computes the same figures its own way (sqlite-stats.ts).
 */
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
import type { Spread, Stats, StatsGrouping, StatsQuery } from './types.js';

/** Median and p90 of an ordered expression, over the rows `where` keeps, in one sort. */
const spread = (order: string, where: string) =>
  `percentile_cont(ARRAY[${MEDIAN}, ${P90}]::float8[]) WITHIN GROUP (ORDER BY ${order})
     FILTER (WHERE ${where})`;

/**
 * Offer figures; grouped, per key and in total (GROUPING SETS: one pass for both), the total's
 * row marked `total`.
 */
function offerFigures(key: string): string {
  const from = key.startsWith('s.') ? 'offers o JOIN shifts s ON s.id = o.shift_id' : 'offers o';
  const grouped = key !== 'NULL';
  const figures = `
    SELECT ${key} AS k, ${grouped ? `GROUPING(${key}) = 1` : 'true'} AS total, COUNT(*) AS sent, COUNT(o.delivered_at) AS delivered,
      COUNT(o.answered_at) AS answered,
      COUNT(*) FILTER (WHERE o.response = 'accepted') AS accepted,
      COUNT(*) FILTER (WHERE o.response = 'rejected') AS rejected,
      COUNT(*) FILTER (WHERE o.outcome = 'expired') AS expired,
      COUNT(*) FILTER (WHERE o.outcome = 'assigned') AS assigned,
      ${spread('o.answered_at - o.sent_at', 'o.answered_at IS NOT NULL')} AS response
    FROM ${from} WHERE o.sent_at >= $1 AND o.sent_at < $2
    ${grouped ? `GROUP BY GROUPING SETS ((${key}), ())` : ''}`;
  return key === GROUP_COLUMN.employee
    ? `SELECT c.*, e.name FROM (${figures}) c LEFT JOIN employees e ON e.id = c.k`
    : figures;
}

/**
 * Per shift created in the window that was offered: its key, status, first offer sent, first
 * acceptance and offers that could still fill it; then counts and durations per key and in
 * total, as offerFigures.
 */
function shiftFigures(key: string): string {
  return `
    WITH per_shift AS (
      SELECT ${key} AS k, s.status, s.closed_at, MIN(o.sent_at) AS first_sent,
        MIN(o.answered_at) FILTER (WHERE o.response = 'accepted') AS first_accept,
        COUNT(*) FILTER (WHERE o.outcome = 'open' OR o.outcome = 'requested'
          OR o.outcome = 'queued') AS live
      FROM shifts s JOIN offers o ON o.shift_id = s.id
      WHERE s.created_at >= $1 AND s.created_at < $2
      GROUP BY s.id HAVING MIN(o.sent_at) IS NOT NULL)
    SELECT ${key === 'NULL' ? 'NULL AS k, true' : 'k, GROUPING(k) = 1'} AS total,
      COUNT(*) AS offered,
      COUNT(*) FILTER (WHERE status = 'assigned') AS filled,
      COUNT(*) FILTER (WHERE status = 'unfilled' OR (status = 'open' AND live = 0)) AS unfilled,
      COUNT(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
      COUNT(*) FILTER (WHERE status = 'open' AND live > 0) AS open,
      ${spread('first_accept - first_sent', 'first_accept IS NOT NULL')} AS first_accept,
      ${spread('closed_at - first_sent', "status = 'assigned'")} AS fill
    FROM per_shift ${key === 'NULL' ? '' : 'GROUP BY GROUPING SETS ((k), ())'}`;
}

type Percentiles = Array<number | string | null> | null;
type OfferFigureRow = OfferCountRow & { total: boolean; response: Percentiles };
type ShiftFigureRow = ShiftCountRow & {
  total: boolean;
  first_accept: Percentiles;
  fill: Percentiles;
};

const spreadOf = (values: Percentiles): Spread =>
  values === null
    ? NO_SPREAD
    : {
        median: values[0] === null || values[0] === undefined ? null : Number(values[0]),
        p90: values[1] === null || values[1] === undefined ? null : Number(values[1]),
      };

const spreadsFrom = <R extends { k: string | number | null }>(
  rows: readonly R[],
  of: (row: R) => Percentiles,
): Spreads => spreadsOf(rows.map((r) => ({ k: r.k, ...spreadOf(of(r)) })));

/** The stats, read with `read` (a query on the store's pool). */
export async function readStats(
  read: <T>(text: string, params?: unknown[]) => Promise<T[]>,
  query: StatsQuery,
): Promise<Stats> {
  const window = [query.from ?? NO_START, query.to ?? NO_END];
  const keyOf = (by: StatsGrouping | undefined) => (by === undefined ? 'NULL' : GROUP_COLUMN[by]);
  const by = query.by;
  // The statements go to the pool together; postgres.js runs them on separate connections.
  // Grouped, each gives the total's row too; an employee's group has no shift figures.
  const [offerRows, shiftRows] = await Promise.all([
    read<OfferFigureRow>(offerFigures(keyOf(by)), window),
    read<ShiftFigureRow>(shiftFigures(keyOf(by === 'employee' ? undefined : by)), window),
  ]);
  const offers = offerRows.find((r) => r.total);
  const shifts = shiftRows.find((r) => r.total);
  const total = {
    key: null,
    offers: offerStatsOf(offers, spreadOf(offers?.response ?? null)),
    shifts: shiftStatsOf(
      shifts,
      spreadOf(shifts?.first_accept ?? null),
      spreadOf(shifts?.fill ?? null),
    ),
  };
  if (by === undefined) return { total };
  const groupOffers = offerRows.filter((r) => !r.total);
  const groupShifts = shiftRows.filter((r) => !r.total);
  const groups = groupsOf(
    groupOffers,
    spreadsFrom(groupOffers, (r) => r.response),
    by === 'employee' ? undefined : groupShifts,
    spreadsFrom(groupShifts, (r) => r.first_accept),
    spreadsFrom(groupShifts, (r) => r.fill),
  );
  return { total, groups };
}
