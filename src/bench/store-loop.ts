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
import { TEST_OFFER } from '../offers/service.js';
import { createSqliteStore } from '../store/sqlite.js';
import { pool } from './generator.js';
import { median, roundsFrom } from './rounds.js';

const OFFERS = 20_000;
const IN_FLIGHT = 64;
const EMPLOYEES = 8000;
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
      const empOf = (i: number) => 100_000 + (i % EMPLOYEES);
      const journal = (
        at: number,
        empId: number,
        shiftId: number,
        kind: 'push' | 'request',
        name: string,
        outcome: string,
      ) => store.journal({ at, kind, empId, shiftId, name, outcome, detail: null });
      // An offer of a new test shift: shift and offer in one write, the delivery mark, and the
      // journal lines of the push and of the request.
      perOffer.push(
        await cpuPer(OFFERS, () =>
          pool(OFFERS, IN_FLIGHT, async (i) => {
            const empId = empOf(i);
            const shiftId = 1000 + i;
            const at = Date.now();
            await store.ensureShift({ ...TEST_OFFER, id: shiftId }, at, {
              empIds: [empId],
              expiresAt: null,
            });
            store.markDelivered(shiftId, [empId], at);
            journal(at, empId, shiftId, 'push', 'shift_offer', 'sent');
            journal(at, empId, shiftId, 'request', 'POST /api/test/send_offer/{emp_id}', '200');
          }),
        ),
      );
      // Each offer accepted: the claim, and the journal lines of the winner's push and of the
      // request.
      perAnswer.push(
        await cpuPer(OFFERS, () =>
          pool(OFFERS, IN_FLIGHT, async (i) => {
            const empId = empOf(i);
            const shiftId = 1000 + i;
            const at = Date.now();
            const claim = await store.claim(shiftId, empId, at);
            if (!claim.recorded || claim.outcome !== 'assigned') {
              throw new Error(`offer ${shiftId} to ${empId} was not assigned`);
            }
            journal(at, empId, shiftId, 'push', 'offer_result', 'sent');
            journal(at, empId, shiftId, 'request', 'POST /api/shift_offer/respond', '200');
          }),
        ),
      );
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
