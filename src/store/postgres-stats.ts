/**
 * The PostgreSQL store's analytics: one statement for the offers and one for the shifts, side
 * by side on the pool, each a hash aggregate per key in one pass. Counts are aggregates; the
 * durations come back as text, one JSON array per key, and their median and p90 are picked out
 * here (stats-sql.ts), as SQLite's store does. percentile_cont sorted every duration, and
 * grouped it needed the rows in key order first: the offers sorted by key, or probed shift by
 * shift, over a second for a million offers.
 */
import { GROUP_COLUMN, NO_END, NO_SPREAD, NO_START, spreadOf } from './stats-sql.js';
import type { OfferStats, ShiftStats, Spread, Stats, StatsGroup, StatsQuery } from './types.js';

/**
 * Memory for each stats statement's hash tables (a row per shift, at most), set for its
 * transaction alone.
 */
export const STATS_WORK_MEM = '64MB';

/** A key's durations, as `'[' || string_agg(duration::text, ',') || ']'`: null when none. */
const durations = (expr: string, where?: string) =>
  `'[' || string_agg((${expr})::text, ',')${where ? ` FILTER (WHERE ${where})` : ''} || ']'`;

/** Offers sent in the window, per key (one row, key null, ungrouped). */
function offerFigures(key: string): string {
  const from = key.startsWith('s.') ? 'offers o JOIN shifts s ON s.id = o.shift_id' : 'offers o';
  const figures = `
    SELECT ${key} AS k, COUNT(*) AS sent, COUNT(o.delivered_at) AS delivered,
      COUNT(o.answered_at) AS answered,
      COUNT(*) FILTER (WHERE o.response = 'accepted') AS accepted,
      COUNT(*) FILTER (WHERE o.response = 'rejected') AS rejected,
      COUNT(*) FILTER (WHERE o.outcome = 'expired') AS expired,
      COUNT(*) FILTER (WHERE o.outcome = 'assigned') AS assigned,
      ${durations('o.answered_at - o.sent_at')} AS response
    FROM ${from} WHERE o.sent_at >= $1 AND o.sent_at < $2
    ${key === 'NULL' ? '' : `GROUP BY ${key}`}`;
  return key === GROUP_COLUMN.employee
    ? `SELECT c.*, e.name FROM (${figures}) c LEFT JOIN employees e ON e.id = c.k`
    : figures;
}

/**
 * Per shift created in the window that was offered: its first offer sent, first acceptance and
 * offers that could still fill it (every offer of the shift, sent in the window or not); then
 * per key, as offerFigures.
 */
function shiftFigures(key: string): string {
  return `
    WITH per_shift AS (
      SELECT o.shift_id, MIN(o.sent_at) AS first_sent,
        MIN(o.answered_at) FILTER (WHERE o.response = 'accepted') AS first_accept,
        COUNT(*) FILTER (WHERE o.outcome = 'open' OR o.outcome = 'requested'
          OR o.outcome = 'queued') AS live
      FROM offers o GROUP BY o.shift_id)
    SELECT ${key} AS k, COUNT(*) AS offered,
      COUNT(*) FILTER (WHERE s.status = 'assigned') AS filled,
      COUNT(*) FILTER (WHERE s.status = 'unfilled' OR (s.status = 'open' AND p.live = 0)) AS unfilled,
      COUNT(*) FILTER (WHERE s.status = 'withdrawn') AS withdrawn,
      COUNT(*) FILTER (WHERE s.status = 'open' AND p.live > 0) AS open,
      ${durations('p.first_accept - p.first_sent')} AS first_accept,
      ${durations('s.closed_at - p.first_sent', "s.status = 'assigned'")} AS fill
    FROM per_shift p JOIN shifts s ON s.id = p.shift_id
    WHERE s.created_at >= $1 AND s.created_at < $2 AND p.first_sent IS NOT NULL
    ${key === 'NULL' ? '' : `GROUP BY ${key}`}`;
}

type Key = string | number | null;
type OfferRow = Omit<OfferStats, 'responseMs'> & {
  k: Key;
  name?: string | null;
  response: string | null;
};
type ShiftRow = Omit<ShiftStats, 'firstAcceptMs' | 'fillMs'> & {
  k: Key;
  first_accept: string | null;
  fill: string | null;
};

const OFFER_COUNTS = [
  'sent',
  'delivered',
  'answered',
  'accepted',
  'rejected',
  'expired',
  'assigned',
] as const;
const SHIFT_COUNTS = ['offered', 'filled', 'unfilled', 'withdrawn', 'open'] as const;

/** The durations of a JSON array (null: none). */
const parsed = (json: string | null): number[] =>
  json === null ? [] : (JSON.parse(json) as number[]);

/** Median and p90 of durations (copied: selection reorders them). */
const spread = (...lists: number[][]): Spread => {
  const all = new Float64Array(lists.reduce((n, l) => n + l.length, 0));
  let at = 0;
  for (const list of lists) {
    all.set(list, at);
    at += list.length;
  }
  return spreadOf(all, all.length);
};

/** Each count summed over the rows (one group's row, or every group's for the total). */
function summed<C extends string>(rows: ReadonlyArray<Record<C, unknown>>, columns: readonly C[]) {
  const totals = {} as Record<C, number>;
  for (const c of columns) totals[c] = rows.reduce((n: number, r) => n + Number(r[c] ?? 0), 0);
  return totals;
}

const offerStats = (rows: readonly OfferRow[], responseMs: Spread): OfferStats => ({
  ...summed(rows, OFFER_COUNTS),
  responseMs,
});

const shiftStats = (
  rows: readonly ShiftRow[],
  firstAcceptMs: Spread,
  fillMs: Spread,
): ShiftStats => ({
  ...summed(rows, SHIFT_COUNTS),
  firstAcceptMs,
  fillMs,
});

/** The stats, read with `read` (a query on the store's pool). */
export async function readStats(
  read: <T>(text: string, params?: unknown[]) => Promise<T[]>,
  query: StatsQuery,
): Promise<Stats> {
  const window = [query.from ?? NO_START, query.to ?? NO_END];
  const by = query.by;
  const offerKey = by === undefined ? 'NULL' : GROUP_COLUMN[by];
  const shiftKey = by === undefined || by === 'employee' ? 'NULL' : GROUP_COLUMN[by];
  // The statements go to the pool together; postgres.js runs them on separate connections.
  const [offerRows, shiftRows] = await Promise.all([
    read<OfferRow>(offerFigures(offerKey), window),
    read<ShiftRow>(shiftFigures(shiftKey), window),
  ]);
  const responses = offerRows.map((r) => parsed(r.response));
  const firstAccepts = shiftRows.map((r) => parsed(r.first_accept));
  const fills = shiftRows.map((r) => parsed(r.fill));
  const total: StatsGroup = {
    key: null,
    offers: offerStats(offerRows, spread(...responses)),
    shifts: shiftStats(shiftRows, spread(...firstAccepts), spread(...fills)),
  };
  if (by === undefined) return { total };

  // A group per key with offers sent or shifts created in the window.
  const groups = new Map<Key, StatsGroup>();
  const groupOf = (key: Key): StatsGroup => {
    let group = groups.get(key);
    if (!group) {
      group = {
        key,
        offers: offerStats([], NO_SPREAD),
        shifts: by === 'employee' ? null : shiftStats([], NO_SPREAD, NO_SPREAD),
      };
      groups.set(key, group);
    }
    return group;
  };
  offerRows.forEach((row, i) => {
    const group = groupOf(row.k);
    group.offers = offerStats([row], spread(responses[i] ?? []));
    if (row.name !== undefined) group.name = row.name;
  });
  if (by !== 'employee') {
    shiftRows.forEach((row, i) => {
      groupOf(row.k).shifts = shiftStats(
        [row],
        spread(firstAccepts[i] ?? []),
        spread(fills[i] ?? []),
      );
    });
  }
  return { total, groups: [...groups.values()] };
}
