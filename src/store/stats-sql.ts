/**
 * What both stores' stats share: the columns a grouping reads, the window's bounds, and the
 * median and 90th percentile of a group's durations, picked out in JS by both (SQLite has no
 * percentile function; PostgreSQL's percentile_cont sorts every value, where picking two is
 * linear), so that both give the same figures by the same arithmetic.
 */
import type { Spread, StatsGrouping } from './types.js';

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

export const NO_SPREAD: Spread = { median: null, p90: null };

/**
 * Puts the k-th smallest of `a[left..right]` at `a[k]`, the smaller ones before it and the
 * larger ones after (Hoare's selection, median-of-three pivots): linear time, where sorting
 * every value would take n log n.
 */
function select(a: Float64Array, left: number, right: number, k: number): void {
  while (right > left) {
    const x = a[left] as number;
    const y = a[(left + right) >>> 1] as number;
    const z = a[right] as number;
    // The median of the three.
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    // a[left..j] <= pivot <= a[i..right], and between them the pivot's equals.
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/** The smallest of `a[from..to]`. */
function least(a: Float64Array, from: number, to: number): number {
  let m = a[from] as number;
  for (let i = from + 1; i <= to; i++) if ((a[i] as number) < m) m = a[i] as number;
  return m;
}

/**
 * Median and p90 of the first `n` values of `a` (reordered in place), interpolated as
 * percentile_cont: lo + (at - floor(at)) * (hi - lo), where lo and hi are the values at offsets
 * floor(at) and the one after, at = p * (n - 1). Each percentile's lo is selected in place (the
 * median's first, then the p90's among the values above it) and its hi is the least of the
 * values above lo.
 */
export function spreadOf(a: Float64Array, n: number): Spread {
  if (n === 0) return NO_SPREAD;
  const pick = (p: number, from: number): number => {
    const at = p * (n - 1);
    const lo = Math.floor(at);
    select(a, from, n - 1, lo);
    const low = a[lo] as number;
    return at > lo ? low + (at - lo) * (least(a, lo + 1, n - 1) - low) : low;
  };
  const median = pick(MEDIAN, 0);
  // Everything past the median's offset is at least it: the p90 is among those.
  const p90 = pick(P90, Math.floor(MEDIAN * (n - 1)));
  return { median, p90 };
}
