/**
 * What both stores' stats share: the columns a grouping reads, the window's bounds, and the
 * assembly of their rows into groups. How the figures are added up is each store's
 * (sqlite-stats.ts, postgres-stats.ts): SQLite has no percentile function, PostgreSQL has
 * percentile_cont.
 */
import type { OfferStats, ShiftStats, Spread, StatsGroup, StatsGrouping } from './types.js';

/**
 * The column each grouping reads: a detail of the shift or the employee. Only these names reach
 * SQL as text; the grouping is one of the keys, checked by the caller's schema. (`+o.emp_id`,
 * which PostgreSQL reads as o.emp_id: SQLite reads each offer's employee with the offer and
 * groups by employee in the store's own code.)
 */
export const GROUP_COLUMN: Record<StatsGrouping, string> = {
  location: 's.location_name',
  client: 's.client_name',
  service_type: 's.service_type',
  employee: '+o.emp_id',
};

/** Bounds that stand for "unbounded": every time a store holds lies between them. */
export const NO_START = -8.64e15;
export const NO_END = 8.64e15;

/** The percentiles reported, as percentile_cont takes them. */
export const MEDIAN = 0.5;
export const P90 = 0.9;

/** One row of offer counts, as both stores name its columns (the employee's name by employee). */
export type OfferCountRow = Omit<OfferStats, 'responseMs'> & {
  k: string | number | null;
  name?: string | null;
};

/** One row of shift counts, as both stores name its columns. */
export type ShiftCountRow = Omit<ShiftStats, 'firstAcceptMs' | 'fillMs'> & {
  k: string | number | null;
};

/** A spread per key, from the rows of a percentile query (`k`, `median`, `p90`). */
export type Spreads = Map<string | number | null, Spread>;

export const NO_SPREAD: Spread = { median: null, p90: null };

export function spreadsOf(
  rows: ReadonlyArray<{ k: string | number | null; median: number | null; p90: number | null }>,
): Spreads {
  return new Map(rows.map((r) => [r.k, { median: r.median, p90: r.p90 }]));
}

export function offerStatsOf(row: OfferCountRow | undefined, responseMs: Spread): OfferStats {
  return {
    sent: Number(row?.sent ?? 0),
    delivered: Number(row?.delivered ?? 0),
    answered: Number(row?.answered ?? 0),
    accepted: Number(row?.accepted ?? 0),
    rejected: Number(row?.rejected ?? 0),
    expired: Number(row?.expired ?? 0),
    assigned: Number(row?.assigned ?? 0),
    responseMs,
  };
}

export function shiftStatsOf(
  row: ShiftCountRow | undefined,
  firstAcceptMs: Spread,
  fillMs: Spread,
): ShiftStats {
  return {
    offered: Number(row?.offered ?? 0),
    filled: Number(row?.filled ?? 0),
    unfilled: Number(row?.unfilled ?? 0),
    withdrawn: Number(row?.withdrawn ?? 0),
    open: Number(row?.open ?? 0),
    firstAcceptMs,
    fillMs,
  };
}

/** Groups of offer and (unless grouped by employee) shift figures, one per key seen. */
export function groupsOf(
  offers: readonly OfferCountRow[],
  response: Spreads,
  shifts: readonly ShiftCountRow[] | undefined,
  firstAccept: Spreads,
  fill: Spreads,
): StatsGroup[] {
  const offerRows = new Map(offers.map((r) => [r.k, r]));
  const shiftRows = new Map((shifts ?? []).map((r) => [r.k, r]));
  const keys = new Set([...offerRows.keys(), ...shiftRows.keys()]);
  return [...keys].map((key) => {
    const group: StatsGroup = {
      key,
      offers: offerStatsOf(offerRows.get(key), response.get(key) ?? NO_SPREAD),
      shifts: shifts
        ? shiftStatsOf(
            shiftRows.get(key),
            firstAccept.get(key) ?? NO_SPREAD,
            fill.get(key) ?? NO_SPREAD,
          )
        : null,
    };
    const row = offerRows.get(key);
    if (row && row.name !== undefined) group.name = row.name;
    return group;
  });
}
