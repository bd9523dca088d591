/**
 * `npm run bench:stats`: fills a SQLite file (and a PostgreSQL schema, when
 * SHIFTCTL_BENCH_POSTGRES names a database) with a million offers as a busy agency's half year
 * would leave them, then times `GET /api/admin/stats` through the real server: the median of a
 * few runs, alone and grouped, and writes them into the "Stats" section of BENCHMARKS.md.
 * Options: `--offers N`, `--runs N`, `--keep` (keep the file and the schema), `--db FILE`,
 * `--schema NAME` (the PostgreSQL schema), `--reuse` (time what a kept file and schema hold,
 * without seeding them again), `--no-write`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../server/create-server.js';
import {
  type BulkLoader,
  type LoadOffer,
  type LoadShift,
  openPostgresLoader,
  openSqliteLoader,
} from '../store/bulk-load.js';
import { dropSchema, withSchema } from './lb-cluster.js';
import { seededRandom } from './random.js';
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
  const random = seededRandom(options.seed ?? 18);
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
    const withdrawAt =
      random() < 0.03 ? t + 10 * MINUTE + Math.round(random() * 2 * 60 * MINUTE) : Infinity;
    const date = new Date(t + 3 * DAY).toISOString().slice(0, 10);
    const shift: LoadShift = {
      id,
      date,
      start_time: pick(['07:00', '09:00', '14:00', '22:00']),
      end_time: pick(['15:00', '17:00', '21:00', '07:00']),
      location_name: `Care Home ${skewed(LOCATIONS) + 1}`,
      client_name: random() < 0.05 ? null : `Client ${skewed(CLIENTS) + 1}`,
      service_type: pick(SERVICES),
      description: null,
      priority: random() < 0.1 ? 'urgent' : 'normal',
      slots,
      filled: 0,
      status: 'open',
      mode: cascade ? 'cascade' : 'broadcast',
      approval: 0,
      step_ttl_s: cascade ? 300 : null,
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
  try {
    await loader.employees(employees);
    for (const { shifts, offers } of generate(options, Date.now() - DAY)) {
      await loader.batch(shifts, offers);
    }
  } finally {
    // Also on failure: an open connection would keep the process from ending.
    await loader.close();
  }
  return (performance.now() - started) / 1000;
}

export interface StatsTiming {
  query: string;
  /** Milliseconds from request to answer, the median of the runs (after one untimed run). */
  medianMs: number;
  runsMs: number[];
  /**
   * CPU milliseconds of this process (the server, in-process, and its client) per request, the
   * median: steadier than the time when other work shares the machine. With PostgreSQL the
   * database's own CPU is elsewhere and not counted.
   */
  medianCpuMs: number;
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
        const cpu = process.cpuUsage();
        const started = performance.now();
        const res = await fetch(url);
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body}`);
        const used = process.cpuUsage(cpu);
        return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
      };
      await once();
      const measured: Array<{ ms: number; cpuMs: number }> = [];
      for (let i = 0; i < runs; i++) measured.push(await once());
      timings.push({
        query,
        medianMs: median(measured.map((m) => m.ms)) ?? Number.NaN,
        runsMs: measured.map((m) => m.ms),
        medianCpuMs: median(measured.map((m) => m.cpuMs)) ?? Number.NaN,
      });
    }
    return timings;
  } finally {
    await server.close();
  }
}

const BY = ['', 'location', 'client', 'service_type', 'employee'] as const;

/**
 * Each grouping, over everything and over the middle three months of the seeded half year
 * (shifts found by their creation time; every offer read all the same, as they have no index by
 * time): the window's dates are this run's.
 */
export function statsQueries(now = Date.now()): string[] {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const window = `from=${day(now - 121 * DAY)}&to=${day(now - 31 * DAY)}`;
  return [
    ...BY.map((by) => (by ? `?by=${by}` : '')),
    ...BY.map((by) => `?${window}${by ? `&by=${by}` : ''}`),
  ];
}

export interface StatsRun {
  store: 'SQLite' | 'PostgreSQL';
  offers: number;
  /** Null when the data was kept from an earlier run (`--reuse`). */
  seedSeconds: number | null;
  timings: StatsTiming[];
}

export interface StatsBenchOptions {
  offers: number;
  runs: number;
  /** A PostgreSQL URL: that store too, in a schema of its own (dropped after unless kept). */
  postgres?: string | undefined;
  /** The SQLite file; a temporary one (removed after unless kept) by default. */
  file?: string | undefined;
  /** The PostgreSQL schema; a new one by default. */
  schema?: string | undefined;
  /** Leave SQLite out (with `postgres`, time PostgreSQL alone). */
  skipSqlite?: boolean;
  keep?: boolean;
  /** Time what the file and the schema hold, kept from an earlier run: no seeding. */
  reuse?: boolean;
  log?: (line: string) => void;
}

/** Seeds each store and times the stats queries through a real server on it. */
export async function runStatsBench(options: StatsBenchOptions): Promise<StatsRun[]> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'shiftctl-stats-'));
  const file = options.file ?? join(dir, 'stats.db');
  const schema = options.schema ?? `shiftctl_stats_${randomBytes(4).toString('hex')}`;
  const pg = options.postgres;
  const targets: Array<{ store: StatsRun['store']; db: string; load: () => Promise<BulkLoader> }> =
    options.skipSqlite
      ? []
      : [{ store: 'SQLite', db: file, load: async () => openSqliteLoader(file) }];
  if (pg) {
    targets.push({
      store: 'PostgreSQL',
      db: withSchema(pg, schema),
      load: () => openPostgresLoader(pg, schema),
    });
  }
  const results: StatsRun[] = [];
  try {
    for (const target of targets) {
      let seedSeconds: number | null = null;
      if (options.reuse) {
        log(`${target.store}: timing the offers kept from an earlier run`);
      } else {
        seedSeconds = await seed(await target.load(), { offers: options.offers });
        log(`${target.store}: seeded ${options.offers} offers in ${seedSeconds.toFixed(1)} s`);
      }
      const timings = await timeStats(target.db, statsQueries(), options.runs);
      for (const t of timings) {
        const all = t.runsMs.map((ms) => ms.toFixed(0)).join(', ');
        log(
          `  GET /api/admin/stats${t.query}: median ${t.medianMs.toFixed(0)} ms (${all}), CPU ${t.medianCpuMs.toFixed(0)} ms`,
        );
      }
      results.push({ store: target.store, offers: options.offers, seedSeconds, timings });
    }
  } finally {
    if (options.keep) {
      log(`kept ${file}${pg ? ` and schema ${schema}` : ''}`);
    } else {
      rmSync(dir, { recursive: true, force: true });
      if (pg) await dropSchema(pg, schema);
    }
  }
  return results;
}

const STATS_HEADING = '## Stats';

/** The "Stats" section of BENCHMARKS.md for these runs. */
export function statsSection(runs: readonly StatsRun[], when: string): string {
  const rows = runs.flatMap((r) =>
    r.timings.map(
      (t) =>
        `| ${r.store} | \`GET /api/admin/stats${t.query}\` | ${t.medianMs.toFixed(0)} ms | ${r.store === 'SQLite' ? `${t.medianCpuMs.toFixed(0)} ms` : '(in PostgreSQL)'} |`,
    ),
  );
  const seeded = runs
    .map(
      (r) =>
        `${r.store} ${r.seedSeconds === null ? '(kept from an earlier run)' : `${r.seedSeconds.toFixed(0)} s`}`,
    )
    .join(', ');
  const over = runs.flatMap((r) =>
    r.timings.filter((t) => t.medianMs > 1000).map((t) => `${r.store} \`${t.query || '(alone)'}\``),
  );
  const verdict =
    over.length === 0 ? 'Every request answered within it.' : `Over it: ${over.join(', ')}.`;
  return `${STATS_HEADING}

\`GET /api/admin/stats\` over ${runs[0]?.offers.toLocaleString('en-US') ?? 0} offers (about ${Math.round((runs[0]?.offers ?? 0) / 10).toLocaleString('en-US')} shifts over half a year, 2000 employees: most answered within minutes, a third of the answers acceptances, some offers expired, cascades run out, shifts withdrawn), through the real server, measured with \`npm run bench:stats\` on ${when} UTC: the median of ${runs[0]?.timings[0]?.runsMs.length ?? 0} runs after one untimed. Seeding took ${seeded}. The target is one second. ${verdict} Load average at the end of the run: ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores (other work shares this machine; SQLite's "server CPU" is the steadier figure).

| store | request | time | server CPU |
| --- | --- | --- | --- |
${rows.join('\n')}

Rerun: \`npm run bench:stats\` (SQLite; with \`SHIFTCTL_BENCH_POSTGRES=postgres://user@host:5432/db\` PostgreSQL too, in a schema of its own; \`-- --offers N\`, \`-- --runs N\`, \`-- --keep --db FILE --schema NAME\` to keep the data and \`-- --reuse --db FILE --schema NAME\` to time it again without seeding, \`-- --postgres-only\`, \`-- --no-write\` to leave this file alone). \`npm run bench -- --stats\` runs it after the rest and writes this section; without \`--stats\` the suite keeps the section as it was. What each figure counts, and how SQLite goes on serving other requests meanwhile: docs/stats.md.
`;
}

/** The markdown with its "Stats" section replaced by `section`, or `section` added at the end. */
export function withStatsSection(markdown: string, section: string): string {
  const start = markdown.indexOf(`\n${STATS_HEADING}\n`);
  if (start < 0) return `${markdown.trimEnd()}\n\n${section}`;
  const next = markdown.indexOf('\n## ', start + 1);
  const rest = next < 0 ? '' : markdown.slice(next);
  return `${markdown.slice(0, start + 1)}${section}${rest}`;
}

/** The "Stats" section of a BENCHMARKS.md, if it has one. */
export function statsSectionOf(markdown: string): string | undefined {
  const start = markdown.indexOf(`\n${STATS_HEADING}\n`);
  if (start < 0) return undefined;
  const next = markdown.indexOf('\n## ', start + 1);
  return `${markdown.slice(start + 1, next < 0 ? undefined : next + 1).trimEnd()}\n`;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const runs = await runStatsBench({
    offers: Number(flag('--offers') ?? 1_000_000),
    runs: Number(flag('--runs') ?? 5),
    postgres: process.env.SHIFTCTL_BENCH_POSTGRES || undefined,
    file: flag('--db'),
    schema: flag('--schema'),
    keep: process.argv.includes('--keep'),
    reuse: process.argv.includes('--reuse'),
    skipSqlite: process.argv.includes('--postgres-only'),
    log: (line) => console.log(line),
  });
  if (process.argv.includes('--no-write')) return;
  const out =
    process.env.BENCH_OUT ?? fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const before = existsSync(out) ? readFileSync(out, 'utf8') : '# Benchmarks\n';
  writeFileSync(out, withStatsSection(before, statsSection(runs, when)));
  console.log(`wrote the Stats section of ${out}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 1;
  });
}
