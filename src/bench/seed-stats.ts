/**
 * `npm run bench:stats`: fills a SQLite file (and a PostgreSQL schema, when
 * SHIFTCTL_BENCH_POSTGRES names a database) with a million offers as a busy agency's half year
 * would leave them, then times `GET /api/admin/stats` through the real server: the median of a
 * few runs, alone and grouped. Options: `--offers N`, `--runs N`, `--keep` (keep the file and
 * the schema), `--db FILE`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../server/create-server.js';
import {
  type BulkLoader,
  type LoadOffer,
  type LoadShift,
  openPostgresLoader,
  openSqliteLoader,
} from '../store/bulk-load.js';
import { dropSchema, withSchema } from './lb-cluster.js';
import { median } from './rounds.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
/** The half year the offers were made in, ending a day before this run's start. */
const SPAN = 182 * DAY;
const EMPLOYEES = 2000;
const LOCATIONS = 40;
const CLIENTS = 300;
const SERVICES = [
  'Home Care',
  'Overnight Care',
  'Companionship',
  'Medication Round',
  'Respite',
  'Live-in Care',
  'Dementia Care',
  'Hospital Discharge',
];
/** Shifts per transaction. */
const BATCH_SHIFTS = 5000;

/** A small, seeded generator (mulberry32): the same data every run. */
function randomFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface SeedOptions {
  offers: number;
  seed?: number;
}

/**
 * The shifts and offers, a batch at a time: what the rules would have written for each shift
 * (first come, first served; deadlines; cascades that run out; some withdrawn), with response
 * times spread as people answer (most in a minute or two, some after hours).
 */
export function* generate(
  options: SeedOptions,
  end: number,
): Generator<{ shifts: LoadShift[]; offers: LoadOffer[] }> {
  const random = randomFrom(options.seed ?? 18);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  /** Skewed towards the first few, as real locations and clients are. */
  const skewed = (n: number) => Math.floor(n * random() ** 2);
  /** Log-normal around `medianMs`. */
  const logNormal = (medianMs: number, sigma: number) => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.round(medianMs * Math.exp(sigma * normal));
  };
  const perShift = 10;
  const gap = SPAN / (options.offers / perShift);
  let t = end - SPAN;
  let id = 0;
  let made = 0;
  let shifts: LoadShift[] = [];
  let offers: LoadOffer[] = [];
  while (made < options.offers) {
    id++;
    t += Math.round(-Math.log(1 - random()) * gap);
    const cascade = random() < 0.1;
    const slots = !cascade && random() < 0.1 ? 2 : 1;
    const ttl = cascade ? 5 * MINUTE : random() < 0.5 ? 30 * MINUTE : null;
    const count = Math.min(
      options.offers - made,
      cascade ? 3 + Math.floor(random() * 6) : 5 + Math.floor(random() * 11),
    );
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(1 + Math.floor(random() * EMPLOYEES));
    const withdrawAt = random() < 0.03 ? t + 10 * MINUTE + random() * 2 * 60 * MINUTE : Infinity;
    const date = new Date(t + 3 * DAY).toISOString().slice(0, 10);
    const shift: LoadShift = {
      id,
      date,
      start_time: pick(['07:00', '09:00', '14:00', '22:00']),
      end_time: pick(['15:00', '17:00', '21:00', '07:00']),
      location_name: `Care Home ${skewed(LOCATIONS) + 1}`,
      client_name: random() < 0.05 ? null : `Client ${skewed(CLIENTS) + 1}`,
      service_type: pick(SERVICES),
      slots,
      filled: 0,
      status: 'open',
      mode: cascade ? 'cascade' : 'broadcast',
      created_at: t,
      closed_at: null,
    };
    const mine: LoadOffer[] = [...chosen].map((empId, i) => ({
      shift_id: id,
      emp_id: empId,
      position: cascade ? i + 1 : null,
      sent_at: null,
      expires_at: null,
      delivered_at: null,
      answered_at: null,
      response: null,
      outcome: 'queued',
      closed_at: null,
    }));
    /** Sends an offer at `at`; returns when (and how) its employee would answer. */
    const send = (o: LoadOffer, at: number) => {
      o.sent_at = at;
      o.outcome = 'open';
      o.expires_at = ttl === null ? null : at + ttl;
      const d = random();
      o.delivered_at =
        d < 0.85
          ? at + 20 + Math.floor(random() * 500)
          : d < 0.95
            ? at + logNormal(20 * MINUTE, 1)
            : null;
      const seen = o.delivered_at ?? at;
      if (random() >= 0.65) return undefined;
      return { offer: o, at: seen + logNormal(90_000, 1.3), accept: random() < 0.35 };
    };
    const answer = (a: { offer: LoadOffer; accept: boolean }, at: number) => {
      a.offer.answered_at = at;
      a.offer.response = a.accept ? 'accepted' : 'rejected';
    };
    if (cascade) {
      let at = t + 50;
      for (const o of mine) {
        const a = send(o, at);
        const expires = o.expires_at as number;
        if (!a || a.at >= expires || a.at >= withdrawAt) {
          if (withdrawAt < expires) break;
          o.outcome = 'expired';
          o.closed_at = expires;
          at = expires;
          continue;
        }
        answer(a, a.at);
        o.closed_at = a.at;
        at = a.at;
        if (a.accept) {
          o.outcome = 'assigned';
          shift.filled = 1;
          shift.status = 'assigned';
          shift.closed_at = a.at;
          break;
        }
        o.outcome = 'rejected';
      }
      if (shift.status === 'open') {
        if (mine.some((o) => o.outcome === 'open') || withdrawAt !== Infinity) {
          shift.status = 'withdrawn';
          shift.closed_at = Math.min(withdrawAt, end);
        } else {
          shift.status = 'unfilled';
          shift.closed_at = at;
        }
        for (const o of mine) {
          if (o.outcome === 'open' || o.outcome === 'queued') {
            o.outcome = 'withdrawn';
            o.closed_at = shift.closed_at;
          }
        }
      } else {
        for (const o of mine) {
          if (o.outcome === 'queued') {
            o.outcome = 'taken';
            o.closed_at = shift.closed_at;
          }
        }
      }
    } else {
      const answers = mine
        .map((o) => send(o, t + 50))
        .filter((a) => a !== undefined)
        .sort((x, y) => x.at - y.at);
      for (const a of answers) {
        const o = a.offer;
        if (a.at >= withdrawAt || (o.expires_at !== null && a.at >= o.expires_at)) continue;
        if (shift.status === 'assigned') {
          answer(a, a.at); // late: the shift was taken, the answer is still recorded
          continue;
        }
        answer(a, a.at);
        o.closed_at = a.at;
        if (!a.accept) {
          o.outcome = 'rejected';
          continue;
        }
        o.outcome = 'assigned';
        shift.filled++;
        if (shift.filled === slots) {
          shift.status = 'assigned';
          shift.closed_at = a.at;
          for (const other of mine) {
            if (other.outcome === 'open' && (other.expires_at ?? Infinity) > a.at) {
              other.outcome = 'taken';
              other.closed_at = a.at;
            }
          }
        }
      }
      if (shift.status === 'open' && withdrawAt !== Infinity) {
        shift.status = 'withdrawn';
        shift.filled = 0;
        shift.closed_at = withdrawAt;
      }
      for (const o of mine) {
        if (shift.status === 'withdrawn' && (o.outcome === 'open' || o.outcome === 'assigned')) {
          if (o.outcome === 'open' && o.expires_at !== null && o.expires_at <= withdrawAt) {
            o.outcome = 'expired';
            o.closed_at = o.expires_at;
          } else {
            o.outcome = 'withdrawn';
            o.closed_at = withdrawAt;
          }
        } else if (o.outcome === 'open' && o.expires_at !== null) {
          o.outcome = 'expired';
          o.closed_at = o.expires_at;
        }
      }
    }
    shifts.push(shift);
    offers.push(...mine);
    made += mine.length;
    if (shifts.length === BATCH_SHIFTS) {
      yield { shifts, offers };
      shifts = [];
      offers = [];
    }
  }
  if (shifts.length > 0) yield { shifts, offers };
}

/** Loads the generated data; returns the seconds it took. */
export async function seed(loader: BulkLoader, options: SeedOptions): Promise<number> {
  const started = performance.now();
  const employees = Array.from({ length: EMPLOYEES }, (_, i) => ({
    id: i + 1,
    name: `Employee ${i + 1}`,
  }));
  await loader.employees(employees);
  for (const { shifts, offers } of generate(options, Date.now() - DAY)) {
    await loader.batch(shifts, offers);
  }
  await loader.close();
  return (performance.now() - started) / 1000;
}

export interface StatsTiming {
  query: string;
  /** Milliseconds, the median of the runs (after one untimed run). */
  medianMs: number;
  runsMs: number[];
}

/** Times each stats query through a real server on `db`: one untimed run, then `runs` timed. */
export async function timeStats(
  db: string,
  queries: readonly string[],
  runs: number,
): Promise<StatsTiming[]> {
  const server = await createServer({ db, port: 0, heartbeatSeconds: 0 });
  try {
    const timings: StatsTiming[] = [];
    for (const query of queries) {
      const url = `${server.url}/api/admin/stats${query}`;
      const once = async () => {
        const started = performance.now();
        const res = await fetch(url);
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body}`);
        return performance.now() - started;
      };
      await once();
      const runsMs: number[] = [];
      for (let i = 0; i < runs; i++) runsMs.push(await once());
      timings.push({ query, medianMs: median(runsMs) ?? Number.NaN, runsMs });
    }
    return timings;
  } finally {
    await server.close();
  }
}

export const STATS_QUERIES = ['', '?by=location', '?by=employee'] as const;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const offers = Number(flag('--offers') ?? 1_000_000);
  const runs = Number(flag('--runs') ?? 5);
  const keep = process.argv.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'shiftctl-stats-'));
  const file = flag('--db') ?? join(dir, 'stats.db');
  const targets: Array<{ name: string; db: string; load: () => Promise<BulkLoader> }> = [
    { name: 'SQLite', db: file, load: async () => openSqliteLoader(file) },
  ];
  const pg = process.env.SHIFTCTL_BENCH_POSTGRES;
  const schema = `shiftctl_stats_${randomBytes(4).toString('hex')}`;
  if (pg) {
    targets.push({
      name: 'PostgreSQL',
      db: withSchema(pg, schema),
      load: () => openPostgresLoader(pg, schema),
    });
  }
  try {
    for (const target of targets) {
      const seconds = await seed(await target.load(), { offers });
      console.log(`${target.name}: seeded ${offers} offers in ${seconds.toFixed(1)} s`);
      for (const t of await timeStats(target.db, STATS_QUERIES, runs)) {
        const all = t.runsMs.map((ms) => ms.toFixed(0)).join(', ');
        console.log(
          `  GET /api/admin/stats${t.query}: median ${t.medianMs.toFixed(0)} ms (${all})`,
        );
      }
    }
  } finally {
    if (!keep) {
      rmSync(dir, { recursive: true, force: true });
      if (pg) await dropSchema(pg, schema);
    } else {
      console.log(`kept ${file}${pg ? ` and schema ${schema}` : ''}`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 1;
  });
}
