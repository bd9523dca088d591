/**
 * The SQLite store's stats added up from the columns its statements read (sqlite-stats.ts), a
 * range of shifts at a time: counts per group, durations into typed arrays, medians and 90th
 * percentiles picked in place (stats-sql.ts). The server runs this module in a worker thread,
 * so that V8 parses and adds up one range while SQLite reads the next on the other core; the
 * tests, which run the TypeScript sources (a worker runs JavaScript only), add up in their own
 * thread, with the same code.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { spreadOf } from './stats-sql.js';
import type { OfferStats, ShiftStats, Spread, StatsGroup } from './types.js';

/** What each offer's `flags` carries, one bit each. */
export const DELIVERED = 1;
export const ACCEPTED = 2;
export const REJECTED = 4;
export const EXPIRED = 8;
export const ASSIGNED = 16;
/** Open, queued or awaiting approval: could still fill its shift. */
export const LIVE = 32;
/** Answered: the time from sending to the answer rides above the flags (sqlite-stats.ts). */
export const ANSWERED = 64;
/** The flags' span: an answer's wait is the packed value's multiple of it. */
export const FLAG_SPAN = 128;

/** What to add up: the window; by employee, offers are grouped by the column read for it. */
export interface TallySpec {
  from: number;
  to: number;
  windowed: boolean;
  /** The offers' range columns carry each offer's employee, its group. */
  byEmployee: boolean;
}

/** The total and (keyed or by employee) the groups, employees without their names. */
export interface Figures {
  total: StatsGroup;
  groups: StatsGroup[];
}

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

  /** Another's durations added (in any order: a median is the same). */
  addAll(other: Durations): void {
    const n = this.n + other.n;
    if (n > this.values.length) {
      const bigger = new Float64Array(Math.max(n, this.values.length * 2));
      bigger.set(this.values.subarray(0, this.n));
      this.values = bigger;
    }
    this.values.set(other.values.subarray(0, other.n), this.n);
    this.n = n;
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

  /** A group's figures added to these (the total's). */
  add(group: Tally): void {
    for (const k of Object.keys(this.offers) as Array<keyof Tally['offers']>) {
      this.offers[k] += group.offers[k];
    }
    for (const k of Object.keys(this.shifts) as Array<keyof Tally['shifts']>) {
      this.shifts[k] += group.shifts[k];
    }
    this.expired += group.expired;
    this.assigned += group.assigned;
    this.response.addAll(group.response);
    this.firstAccept.addAll(group.firstAccept);
    this.fill.addAll(group.fill);
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

type Key = string | number | null;

/** The figures of the ranges added so far. */
export class StatsTally {
  private readonly total = new Tally();
  private readonly groups = new Map<Key, Tally>();

  constructor(private readonly spec: TallySpec) {}

  private groupOf(key: Key): Tally {
    let group = this.groups.get(key);
    if (!group) {
      group = new Tally();
      this.groups.set(key, group);
    }
    return group;
  }

  /** A range's columns, one JSON array each (sqlite-stats.ts: shiftsIn, then offersIn). */
  add(shiftColumns: readonly string[], offerColumns: readonly string[]): void {
    const { from, to, windowed } = this.spec;
    const total = this.total;
    const groupOf = (key: Key) => this.groupOf(key);
    const [ids, statuses, closed, created, keys] = shiftColumns.map((c) => JSON.parse(c)) as [
      number[],
      string[],
      Array<number | null>,
      number[],
      Array<string | null> | undefined,
    ];
    const [shiftIds, sent, packed, employees] = offerColumns.map((c) => JSON.parse(c)) as [
      number[],
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
    // A shift's offers come together: its index is looked up once for them all.
    let shiftId = Number.NaN;
    let s = 0;
    for (let i = 0; i < shiftIds.length; i++) {
      if (shiftIds[i] !== shiftId) {
        shiftId = shiftIds[i] as number;
        s = index.get(shiftId) as number;
      }
      const v = packed[i] as number;
      const f = ((v % FLAG_SPAN) + FLAG_SPAN) % FLAG_SPAN;
      const at = sent[i] as number | null;
      if (f & LIVE) live[s] = (live[s] as number) + 1;
      if (at === null) continue;
      const wait = f & ANSWERED ? (v - f) / FLAG_SPAN : null;
      if (f & ACCEPTED && wait !== null && at + wait < (firstAccept[s] as number)) {
        firstAccept[s] = at + wait;
      }
      if (at < (firstSent[s] as number)) firstSent[s] = at;
      if (at < from || at >= to) continue;
      if (employees) groupOf(employees[i] as number).offer(f, wait);
      else if (keys) tallyOf(s).offer(f, wait);
      else total.offer(f, wait);
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
      (keys ? tallyOf(s) : total).shift(...figures);
    }
  }

  figures(): Figures {
    // Grouped, each offer (and each shift, unless by employee) was added to its group alone.
    for (const group of this.groups.values()) this.total.add(group);
    const byEmployee = this.spec.byEmployee;
    return {
      total: {
        key: null,
        offers: this.total.offerStats(),
        shifts: this.total.shiftStats(),
      },
      groups: [...this.groups].map(([key, tally]) => ({
        key,
        offers: tally.offerStats(),
        shifts: byEmployee ? null : tally.shiftStats(),
      })),
    };
  }
}

/** Adds up ranges as they are read; `figures` once they all were. */
export interface TallyRun {
  add(shiftColumns: string[], offerColumns: string[]): void;
  figures(): Promise<Figures>;
  /** Drops what was added, if the figures were not asked for (a question given up). */
  close(): void;
}

/** What the worker is sent: a question's start, a range of it, its end (or abandonment). */
type ToWorker =
  | { id: number; start: TallySpec }
  | { id: number; range: [string[], string[]] }
  | { id: number; end: boolean };
type FromWorker = { id: number; figures: Figures };

/** Marks the worker's data, so that this module starts serving questions in a worker it started. */
const WORKER_MARK = 'shiftctlStatsTally';

/**
 * One worker for the process, started on the first question and kept (its code stays compiled:
 * a fresh one ran the loops cold each time). It holds the process open while a question waits
 * on it (nothing else may: a script awaiting the figures), and not otherwise.
 */
let worker: Worker | undefined;
const waiting = new Map<number, { resolve: (f: Figures) => void; reject: (e: Error) => void }>();
let lastId = 0;

function settled(id: number): void {
  waiting.delete(id);
  if (waiting.size === 0) worker?.unref();
}

function sharedWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(new URL(import.meta.url), { workerData: { [WORKER_MARK]: true } });
  started.on('message', (m: FromWorker) => {
    waiting.get(m.id)?.resolve(m.figures);
    settled(m.id);
  });
  const fail = (err: Error) => {
    if (worker === started) worker = undefined;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  started.on('error', fail);
  started.on('exit', (code) => fail(new Error(`The stats worker stopped (exit ${code}).`)));
  worker = started;
  return started;
}

export function startTally(spec: TallySpec): TallyRun {
  // The TypeScript sources (the tests): a worker could not run this module; add up here.
  if (!import.meta.url.endsWith('.js')) {
    const tally = new StatsTally(spec);
    return {
      add: (shifts, offers) => tally.add(shifts, offers),
      figures: async () => tally.figures(),
      close: () => {},
    };
  }
  const id = ++lastId;
  const runner = sharedWorker();
  const send = (m: ToWorker) => runner.postMessage(m);
  const figures = new Promise<Figures>((resolve, reject) => waiting.set(id, { resolve, reject }));
  runner.ref();
  // Awaited only at the end: a failure meanwhile is not an unhandled rejection.
  figures.catch(() => {});
  send({ id, start: spec });
  let ended = false;
  return {
    // Strings are copied to the worker: a few megabytes a range, a fraction of a millisecond.
    add: (shifts, offers) => send({ id, range: [shifts, offers] }),
    figures: () => {
      ended = true;
      send({ id, end: true });
      return figures;
    },
    close: () => {
      if (ended) return;
      settled(id);
      send({ id, end: false });
    },
  };
}

if (!isMainThread && parentPort && workerData?.[WORKER_MARK]) {
  const port = parentPort;
  const tallies = new Map<number, StatsTally>();
  port.on('message', (m: ToWorker) => {
    if ('start' in m) tallies.set(m.id, new StatsTally(m.start));
    else if ('range' in m) tallies.get(m.id)?.add(m.range[0], m.range[1]);
    else {
      const tally = tallies.get(m.id);
      tallies.delete(m.id);
      if (tally && m.end) port.postMessage({ id: m.id, figures: tally.figures() } as FromWorker);
    }
  });
}
