/**
 * `npm run bench:store`: the store alone, as the server drives it for the test endpoint and for
 * answers (64 requests in flight, so group commits batch as they do under load), on a fresh
 * file-backed database each round (all removed at the end). Prints CPU microseconds per offer
 * and per answer, the minimum and median over the rounds: the figure to compare when changing
 * the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../store/sqlite.js';
import { pool } from './generator.js';
import { median, roundsFrom } from './rounds.js';
import { storeOps } from './store-ops.js';

const OFFERS = 20_000;
const IN_FLIGHT = 64;
const ROUNDS = roundsFrom(process.argv, 5);

/** CPU microseconds per item spent by `work`. */
async function cpuPer(items: number, work: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / items;
}

const stats = (values: number[]) =>
  `min ${Math.min(...values).toFixed(1)} median ${median(values)?.toFixed(1)}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shiftctl-store-loop-'));
  const perOffer: number[] = [];
  const perAnswer: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const path = join(dir, `round-${round}.db`);
      const store = createSqliteStore({ path });
      const ops = storeOps(store);
      perOffer.push(await cpuPer(OFFERS, () => pool(OFFERS, IN_FLIGHT, ops.offer)));
      perAnswer.push(await cpuPer(OFFERS, () => pool(OFFERS, IN_FLIGHT, ops.answer)));
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `store CPU per offer:  ${stats(perOffer)} us\nstore CPU per answer: ${stats(perAnswer)} us\n` +
      `(${OFFERS} offers then their answers, ${IN_FLIGHT} in flight, ${ROUNDS} round${ROUNDS === 1 ? '' : 's'})\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:store failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
