/**
 * Instances killed with `kill -9`: real `serve` processes on one PostgreSQL database with Redis
 * between them, at their default timings. An instance killed mid-race loses no answer it
 * acknowledged and leaves no ghost presence; a deadline armed by a killed instance still fires.
 * Skipped, by name, without SHIFTCTL_TEST_POSTGRES and SHIFTCTL_TEST_REDIS.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Cli, serveJson } from './cli-harness.js';
import { get, http, post, TestClient } from './helpers.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

const redisUrl = process.env.SHIFTCTL_TEST_REDIS || undefined;
const schemas = testSchemas();
afterAll(() => schemas.dropAll());

interface Instance {
  cli: Cli;
  url: string;
  wsUrl: string;
}

async function start(db: string): Promise<Instance> {
  const { cli, url } = await serveJson(
    '--db',
    db,
    '--db-pool',
    '3',
    '--redis',
    redisUrl as string,
    '--no-fixtures',
    '--no-rate-limit',
  );
  return { cli, url, wsUrl: `${url.replace(/^http/, 'ws')}/ws` };
}

const LEADS = (line: string) => line.includes('"event":"leading_timers"');

describe.skipIf(!postgresUrl || !redisUrl)(
  'instances killed with kill -9 (set SHIFTCTL_TEST_POSTGRES and SHIFTCTL_TEST_REDIS to run)',
  () => {
    it('loses no acknowledged answer, leaves no ghost, and its deadlines still fire', async () => {
      const db = new URL(postgresUrl as string);
      db.searchParams.set('schema', schemas.name());
      const servers = [await start(db.href), await start(db.href), await start(db.href)];
      const clients: TestClient[] = [];
      try {
        // A race over all three, with one instance killed while the answers are on their way.
        const empIds = Array.from({ length: 30 }, (_, i) => 2001 + i);
        const on = (i: number) => servers[i % 3] as Instance;
        for (const [i, empId] of empIds.entries()) {
          const client = new TestClient(`${on(i).wsUrl}/${empId}`);
          clients.push(client);
          await client.opened();
        }
        const created = await post(on(0), '/api/admin/shifts', {
          id: 9100,
          date: '2026-02-01',
          start_time: '07:00',
          end_time: '15:00',
          offer_to: empIds,
        });
        expect(created.status).toBe(201);
        await Promise.all(clients.map((c) => c.offer(9100)));
        const victim = servers[2] as Instance;
        const answers = empIds.map((empId, i) =>
          post(on(i), '/api/shift_offer/respond', {
            emp_id: empId,
            shift_id: 9100,
            response: 'accepted',
          }).catch(() => undefined),
        );
        victim.cli.child.kill('SIGKILL');
        const settled = await Promise.all(answers);
        const acknowledged = settled.filter((a) => a?.status === 200);
        const winners = acknowledged.filter((a) => a?.body.assigned === true);
        expect(winners.length).toBeLessThanOrEqual(1);
        // Every answer the survivors acknowledged was taken; the shift went to exactly one.
        expect(acknowledged.length).toBeGreaterThanOrEqual(20);
        const shift = (await get(on(0), '/api/admin/shifts/9100')).body;
        expect(shift.status).toBe('assigned');
        expect(shift.assigned_to).toHaveLength(1);
        if (winners[0]) expect(shift.assigned_to).toEqual([winners[0].body.emp_id]);
        for (const a of acknowledged) {
          const holder = shift.holders.find((h: { emp_id: number }) => h.emp_id === a?.body.emp_id);
          expect(holder?.response).toBe('accepted');
        }

        // The killed instance's devices disappear from presence once its entry expires.
        const survivors = empIds.filter((_, i) => i % 3 !== 2);
        await vi.waitFor(
          async () => {
            const listed = (await get(on(0), '/api/connections')).body;
            expect(listed.active_connections).toEqual(survivors);
          },
          { timeout: 15_000, interval: 200 },
        );

        // A deadline armed through the timer leader, which is then killed, still fires.
        const alive = servers.slice(0, 2);
        const leader = await Promise.any(
          alive.map((s) => s.cli.line(LEADS, 'an instance leading the timers').then(() => s)),
        );
        const other = alive.find((s) => s !== leader) as Instance;
        const watcher = new TestClient(`${other.wsUrl}/2999`);
        clients.push(watcher);
        await watcher.opened();
        await http(leader, 'POST', '/api/test/send_offer/2999?shift_id=9200&ttl_seconds=2');
        await watcher.offer(9200);
        leader.cli.child.kill('SIGKILL');
        expect(await watcher.result(9200, 20_000)).toMatchObject({ status: 'expired' });
        await other.cli.line(LEADS, 'the other instance taking the timers over');
      } finally {
        for (const c of clients) c.close();
      }
    }, 60_000);
  },
);
