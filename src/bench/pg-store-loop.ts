/**
 * `npm run bench:store:pg -- --url postgres://user@host:5432/db [--pool N] [--in-flight N]
 * [--rounds N]`: the PostgreSQL store alone, driven as `npm run bench:store` drives the SQLite
 * one (a new test shift offered, then each offer accepted; `--in-flight` requests at once), in
 * a fresh schema each round (dropped at the end). Prints offers and answers a second, their
 * latency, and Node's CPU per operation (PostgreSQL's own CPU is not in it). The URL may also
 * come from SHIFTCTL_BENCH_POSTGRES.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createPostgresStore } from '../store/postgres.js';
import { pool } from './generator.js';
import { median, roundsFrom } from './rounds.js';
import { storeOps } from './store-ops.js';

const OFFERS = 20_000;

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function positive(name: string, fallback: number): number {
  const value = flag(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

interface Phase {
  perSecond: number;
  cpuUs: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `count` operations, `inFlight` at a time: throughput, CPU and latency. */
async function measure(
  count: number,
  inFlight: number,
  op: (i: number) => Promise<void>,
): Promise<Phase> {
  const latencies = new Float64Array(count);
  const cpu = process.cpuUsage();
  const start = performance.now();
  await pool(count, inFlight, async (i) => {
    const t = performance.now();
    await op(i);
    latencies[i] = performance.now() - t;
  });
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort();
  return {
    perSecond: count / seconds,
    cpuUs: (used.user + used.system) / count,
    p50Ms: latencies[Math.floor(count * 0.5)] ?? 0,
    p99Ms: latencies[Math.floor(count * 0.99)] ?? 0,
  };
}

const summary = (label: string, phases: Phase[]) => {
  const m = (pick: (p: Phase) => number) => median(phases.map(pick)) ?? 0;
  return `${label} ${m((p) => p.perSecond).toFixed(0)}/s, latency p50 ${m((p) => p.p50Ms).toFixed(2)} ms p99 ${m((p) => p.p99Ms).toFixed(2)} ms, Node CPU ${m((p) => p.cpuUs).toFixed(1)} us each\n`;
};

async function main(): Promise<void> {
  const url = flag('--url') ?? process.env.SHIFTCTL_BENCH_POSTGRES;
  if (!url) {
    process.stderr.write(
      'bench:store:pg needs --url postgres://... (or SHIFTCTL_BENCH_POSTGRES)\n',
    );
    process.exitCode = 2;
    return;
  }
  const poolSize = positive('--pool', 10);
  const inFlight = positive('--in-flight', 64);
  const rounds = roundsFrom(process.argv, 3);
  const offers: Phase[] = [];
  const answers: Phase[] = [];
  const schemas: string[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const schema = `shiftctl_bench_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      const store = await createPostgresStore({ url, poolSize, schema });
      const ops = storeOps(store);
      try {
        offers.push(await measure(OFFERS, inFlight, ops.offer));
        answers.push(await measure(OFFERS, inFlight, ops.answer));
      } finally {
        await store.close();
      }
    }
  } finally {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
    await sql.end();
  }
  process.stdout.write(
    summary('offers: ', offers) +
      summary('answers:', answers) +
      `(${OFFERS} offers then their answers, ${inFlight} in flight, pool of ${poolSize}, median of ${rounds} round${rounds === 1 ? '' : 's'})\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:store:pg failed: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exitCode = 1;
});
