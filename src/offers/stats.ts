/**
 * The stats as the admin API shows them: the store's figures (milliseconds, counts) as seconds
 * and rates, groups in a stable order.
 */
import type { StatsGroupView, StatsQuery, StatsResponse } from '../protocol/stats.js';
import { windowOf } from '../protocol/stats.js';
import type { OfferStats, ShiftStats, Spread, StatsGroup } from '../store/types.js';
import type { OfferServiceDeps } from './service.js';
import { isoTime } from './views.js';

/** Milliseconds as seconds, to the millisecond. */
const seconds = (ms: number | null): number | null => (ms === null ? null : Math.round(ms) / 1000);

const secondsOf = (spread: Spread) => ({
  median: seconds(spread.median),
  p90: seconds(spread.p90),
});

/** A fraction to four places; null when nothing was counted. */
const rate = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;

function offersView(o: OfferStats) {
  const { responseMs, ...counts } = o;
  return {
    ...counts,
    response_rate: rate(o.answered, o.sent),
    response_seconds: secondsOf(responseMs),
  };
}

function shiftsView(s: ShiftStats | null) {
  if (s === null) return null;
  const { firstAcceptMs, fillMs, ...counts } = s;
  return {
    ...counts,
    fill_rate: rate(s.filled, s.offered),
    first_accept_seconds: secondsOf(firstAcceptMs),
    fill_seconds: secondsOf(fillMs),
  };
}

/** Most offers sent first, then by key (as text, code point by code point; none last). */
function compareGroups(a: StatsGroup, b: StatsGroup): number {
  if (a.offers.sent !== b.offers.sent) return b.offers.sent - a.offers.sent;
  if (a.key === b.key) return 0;
  if (a.key === null) return 1;
  if (b.key === null) return -1;
  if (typeof a.key === 'number' && typeof b.key === 'number') return a.key - b.key;
  return String(a.key) < String(b.key) ? -1 : 1;
}

function groupView(g: StatsGroup): StatsGroupView {
  return {
    key: g.key,
    ...(g.name === undefined ? {} : { name: g.name }),
    offers: offersView(g.offers),
    shifts: shiftsView(g.shifts),
  };
}

export function createStatsReads(deps: Pick<OfferServiceDeps, 'store'>) {
  return {
    /** Offers and shifts in the window, in total and (with `by`) per group. */
    async stats(query: StatsQuery): Promise<StatsResponse> {
      const { from, to } = windowOf(query);
      const stats = await deps.store.stats({ from, to, by: query.by });
      return {
        from: from === undefined ? null : isoTime(from),
        to: to === undefined ? null : isoTime(to),
        by: query.by ?? null,
        total: { offers: offersView(stats.total.offers), shifts: shiftsView(stats.total.shifts) },
        groups: (stats.groups ?? []).sort(compareGroups).map(groupView),
      };
    },
  };
}
