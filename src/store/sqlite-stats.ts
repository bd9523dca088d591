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
import type { Spread, Stats, StatsGrouping, StatsQuery } from './types.js';

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
function offerCounts(key: string): string {
  if (key === 'NULL') {
    // The total also counts the answers below each band of totalResponse (none below an open one).
    const d = 'o.answered_at - o.sent_at';
    return `SELECT NULL AS k, ${COUNTS},
      COUNT(CASE WHEN ${d} < @lo1 THEN 1 END) AS b1, COUNT(CASE WHEN ${d} < @lo2 THEN 1 END) AS b2
      FROM ${sentOffers(key)}`;
  }
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
function responseTimes(key: string): string {
  return percentiles(
    `SELECT ${key} AS k, o.answered_at - o.sent_at AS d
     FROM ${sentOffers(key)} AND o.answered_at IS NOT NULL`,
    key === 'NULL' ? '@n' : undefined,
  );
}

/** Response times of the offers sent in the window and answered (the total's values). */
const ANSWERED = `
  SELECT o.answered_at - o.sent_at AS d FROM offers o
  WHERE o.sent_at >= @from AND o.sent_at < @to AND o.answered_at IS NOT NULL`;

/**
 * Bounds around the median and the 90th percentile of the answered offers, from a sample (the
 * offers of every 16th shift, read along the primary key: a sixteenth of the rows, sorted
 * cheaply): a generous margin outside each in the sample, or open (NULL) past its ends.
 */
const SAMPLE_BOUNDS = `
  SELECT
    MAX(CASE WHEN j = CAST(${MEDIAN} * m AS INTEGER) - gap THEN d END) AS lo1,
    MAX(CASE WHEN j = CAST(${MEDIAN} * m AS INTEGER) + 1 + gap THEN d END) AS hi1,
    MAX(CASE WHEN j = CAST(${P90} * m AS INTEGER) - gap THEN d END) AS lo2,
    MAX(CASE WHEN j = CAST(${P90} * m AS INTEGER) + 1 + gap THEN d END) AS hi2
  FROM (
    SELECT d, ROW_NUMBER() OVER w - 1 AS j, COUNT(*) OVER w AS m,
      CAST(6 * sqrt(COUNT(*) OVER w) AS INTEGER) + 32 AS gap
    FROM (
      SELECT o.answered_at - o.sent_at AS d FROM shifts s CROSS JOIN offers o ON o.shift_id = s.id
      WHERE s.id % 16 = 0 AND o.sent_at >= @from AND o.sent_at < @to
        AND o.answered_at IS NOT NULL)
    WINDOW w AS (ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))`;

/** How many values fall below each band's lower bound (none below an open one). */
const BELOW = `
  SELECT COUNT(CASE WHEN d < @lo1 THEN 1 END) AS b1, COUNT(CASE WHEN d < @lo2 THEN 1 END) AS b2
  FROM (${ANSWERED})`;

/**
 * The values at offsets `@w1a`, `@w1b` of band 1 and `@w2a`, `@w2b` of band 2, in order: the
 * values inside either band are read in one pass, then numbered within each band.
 */
const IN_BANDS = `
  WITH inside AS MATERIALIZED (
    SELECT d FROM (${ANSWERED})
    WHERE ((@lo1 IS NULL OR d >= @lo1) AND (@hi1 IS NULL OR d <= @hi1))
      OR ((@lo2 IS NULL OR d >= @lo2) AND (@hi2 IS NULL OR d <= @hi2)))
  SELECT b, i, d FROM (
    SELECT b, d, ROW_NUMBER() OVER (PARTITION BY b ORDER BY d) - 1 AS i FROM (
      SELECT 1 AS b, d FROM inside WHERE (@lo1 IS NULL OR d >= @lo1) AND (@hi1 IS NULL OR d <= @hi1)
      UNION ALL
      SELECT 2 AS b, d FROM inside WHERE (@lo2 IS NULL OR d >= @lo2) AND (@hi2 IS NULL OR d <= @hi2)))
  WHERE (b = 1 AND (i = @w1a OR i = @w1b)) OR (b = 2 AND (i = @w2a OR i = @w2b))`;

/**
 * Each shift created in the window that was offered (an offer of it sent): its key, status,
 * first offer sent, first acceptance, and how many of its offers could still fill it. With a
 * window the shifts come from their index by creation time, in its order (grouped by it, so no
 * sort), each with its offers: left to itself, SQLite would read every shift to group by id.
 * Without one, reading every shift in id order is what it takes, and a little cheaper.
 */
function perShift(key: string, windowed: boolean): string {
  const shifts = windowed
    ? `shifts s INDEXED BY shifts_by_created CROSS JOIN offers o ON o.shift_id = s.id
       WHERE s.created_at >= @from AND s.created_at < @to GROUP BY s.created_at, s.id`
    : 'shifts s CROSS JOIN offers o ON o.shift_id = s.id GROUP BY s.id';
  return `
    SELECT ${key} AS k, s.status AS status, s.closed_at AS closed_at,
      MIN(o.sent_at) AS first_sent,
      MIN(CASE WHEN o.response = 'accepted' THEN o.answered_at END) AS first_accept,
      COUNT(CASE WHEN o.outcome = 'open' OR o.outcome = 'requested' OR o.outcome = 'queued'
        THEN 1 END) AS live
    FROM ${shifts} HAVING MIN(o.sent_at) IS NOT NULL`;
}

const SHIFT_COUNTS = `COUNT(*) AS offered,
  COUNT(CASE WHEN status = 'assigned' THEN 1 END) AS filled,
  COUNT(CASE WHEN status = 'unfilled' OR (status = 'open' AND live = 0) THEN 1 END) AS unfilled,
  COUNT(CASE WHEN status = 'withdrawn' THEN 1 END) AS withdrawn,
  COUNT(CASE WHEN status = 'open' AND live > 0 THEN 1 END) AS open`;

/** Each shift's time to its first acceptance, and a filled one's time to fill, with `k` as given. */
const firstAccepts = (k: string) =>
  `SELECT ${k} AS k, first_accept - first_sent AS d FROM per_shift WHERE first_accept IS NOT NULL`;
const fills = (k: string) =>
  `SELECT ${k} AS k, closed_at - first_sent AS d FROM per_shift WHERE status = 'assigned'`;
/** The total's durations: every shift in one group, of a size known without counting it again. */
const totalOf = (values: (k: string) => string) =>
  percentiles(values('NULL'), `(SELECT COUNT(*) FROM (${values('NULL')}))`);

/**
 * Shift counts and both durations, over one pass of perShift: in total (the row marked
 * `total`), and per key when there is one.
 */
function shiftFigures(key: string, windowed: boolean): string {
  const grouped = key !== 'NULL';
  const durations = (name: string, a: string, f: string) =>
    `SELECT c.*, ${a}.median AS a_median, ${a}.p90 AS a_p90, ${f}.median AS f_median,
       ${f}.p90 AS f_p90 FROM ${name} c`;
  const total = `${durations('all_counts', 'aa', 'fa')}
    LEFT JOIN first_accept_all aa ON true LEFT JOIN fill_all fa ON true`;
  return `
    WITH per_shift AS MATERIALIZED (${perShift(key, windowed)}),
    all_counts AS (SELECT NULL AS k, 1 AS total, ${SHIFT_COUNTS} FROM per_shift),
    first_accept_all AS (${totalOf(firstAccepts)}),
    fill_all AS (${totalOf(fills)})${
      grouped
        ? `,
    counts AS (SELECT k, 0 AS total, ${SHIFT_COUNTS} FROM per_shift GROUP BY k),
    first_accept AS (${percentiles(firstAccepts('k'))}),
    fill AS (${percentiles(fills('k'))})
    ${durations('counts', 'a', 'f')}
    LEFT JOIN first_accept a ON a.k IS c.k LEFT JOIN fill f ON f.k IS c.k
    UNION ALL ${total}`
        : `
    ${total}`
    }`;
}

/** Bounds of the bands around the total's median (1) and p90 (2); null: open. */
type Bands = { lo1: number | null; hi1: number | null; lo2: number | null; hi2: number | null };

type ShiftFigureRow = ShiftCountRow & {
  /** 1 for the total's row. */
  total: 0 | 1;
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
  const shiftsFor = (by: StatsGrouping | 'total', windowed: boolean) =>
    statement(`shifts:${by}:${windowed}`, () => shiftFigures(keyOf(by), windowed));

  function shiftSpreads(rows: ShiftFigureRow[]): { firstAccept: Spreads; fill: Spreads } {
    return {
      firstAccept: spreadsOf(rows.map((r) => ({ k: r.k, median: r.a_median, p90: r.a_p90 }))),
      fill: spreadsOf(rows.map((r) => ({ k: r.k, median: r.f_median, p90: r.f_p90 }))),
    };
  }

  /** Bounds of the two bands around the total's median and p90 (see SAMPLE_BOUNDS). */
  function bands(window: { from: number; to: number }): Bands {
    return statement('sample', () => SAMPLE_BOUNDS).get(window) as Bands;
  }

  /**
   * The total's response-time median and p90 without sorting every value: only the values
   * inside the bands around them are sorted, given how many fall below each band. Exact all
   * the same: each rank is checked to fall inside its band, and when the sample misled, the
   * plain window query answers instead.
   */
  function totalResponse(
    window: { from: number; to: number },
    n: number,
    band: Bands,
    below: { b1: number; b2: number },
  ): Spread {
    if (n === 0) return NO_SPREAD;
    const rank = (p: number) => {
      const at = p * (n - 1);
      const lo = Math.floor(at);
      return { at, lo, hi: lo + (at > lo ? 1 : 0) };
    };
    const med = rank(MEDIAN);
    const p90 = rank(P90);
    const want = {
      w1a: med.lo - below.b1,
      w1b: med.hi - below.b1,
      w2a: p90.lo - below.b2,
      w2b: p90.hi - below.b2,
    };
    const rows = statement('bands', () => IN_BANDS).all({ ...window, ...band, ...want }) as Array<{
      b: number;
      i: number;
      d: number;
    }>;
    const at = (b: number, i: number) => rows.find((r) => r.b === b && r.i === i)?.d;
    const values = [at(1, want.w1a), at(1, want.w1b), at(2, want.w2a), at(2, want.w2b)];
    if (values.some((v) => v === undefined)) {
      const row = responseFor('total').get({ ...window, n }) as Spread | undefined;
      return row ? { median: row.median, p90: row.p90 } : NO_SPREAD;
    }
    const [m1, m2, p1, p2] = values as [number, number, number, number];
    // As percentile_cont: lo + (at - floor(at)) * (hi - lo).
    return {
      median: m1 + (med.at - med.lo) * (m2 - m1),
      p90: p1 + (p90.at - p90.lo) * (p2 - p1),
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
      const windowed = query.from !== undefined || query.to !== undefined;
      // Without a window, the shifts' statements take no bounds.
      const shiftWindow = windowed ? window : {};
      const by = query.by;
      // Grouped, the total's counts are the groups' added up: one pass over the offers less.
      const band = bands(window);
      const groupOffers =
        by === undefined ? undefined : (offerCountsFor(by).all(window) as OfferCountRow[]);
      // Alone, one pass counts the offers and the answers below each band.
      const offers = groupOffers
        ? sum(groupOffers)
        : (offerCountsFor('total').get({
            ...window,
            lo1: band.lo1,
            lo2: band.lo2,
          }) as OfferCountRow & { b1: number; b2: number });
      const below =
        'b1' in offers
          ? (offers as unknown as { b1: number; b2: number })
          : (statement('below', () => BELOW).get({ ...window, lo1: band.lo1, lo2: band.lo2 }) as {
              b1: number;
              b2: number;
            });
      const response = totalResponse(window, offers.answered, band, below);
      // Grouped by a shift's detail, one statement gives the groups' shift figures and the total's.
      const byShift = by !== undefined && by !== 'employee';
      const shiftRows = shiftsFor(byShift ? by : 'total', windowed).all(
        shiftWindow,
      ) as ShiftFigureRow[];
      const shifts = shiftRows.find((r) => r.total === 1);
      const total = {
        key: null,
        offers: offerStatsOf(offers, response),
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
      const groupShifts = shiftRows.filter((r) => r.total === 0);
      const { firstAccept, fill } = shiftSpreads(groupShifts);
      return {
        total,
        groups: groupsOf(groupOffers, groupResponse, groupShifts, firstAccept, fill),
      };
    },
  };
}
