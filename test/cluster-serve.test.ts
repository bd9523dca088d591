/**
 * Three servers on one PostgreSQL database, with Redis between them and with PostgreSQL alone:
 * one contract whichever instance a request or a device reaches. In-process servers (the real
 * server, stores and engines, with short presence and lease timings); test/cluster-kill.test.ts
 * kills real processes. Skipped, by name, without SHIFTCTL_TEST_POSTGRES and SHIFTCTL_TEST_REDIS.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createPostgresCluster } from '../src/cluster/postgres.js';
import { createRedisCluster } from '../src/cluster/redis.js';
import type { Cluster } from '../src/cluster/types.js';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { get, http, post, startServer, TestClient } from './helpers.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

const redisUrl = process.env.SHIFTCTL_TEST_REDIS || undefined;
const schemas = testSchemas();
afterAll(() => schemas.dropAll());

type Engine = 'redis' | 'postgres';

/** A cluster engine with timings short enough for a test to watch a lease change hands. */
function engine(kind: Engine, schema: string): Promise<Cluster> {
  const fast = { heartbeatMs: 200, instanceTtlMs: 1000, leaseRenewMs: 200 };
  return kind === 'redis'
    ? createRedisCluster({
        url: redisUrl as string,
        group: `shiftctl:${schema}`,
        leaseTtlMs: 1000,
        ...fast,
      })
    : createPostgresCluster({ url: postgresUrl as string, schema, ...fast });
}

const open: ShiftServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** `count` servers on one new schema, each with its own cluster instance. */
async function instances(kind: Engine, count: number, options: ServerOptions = {}) {
  const schema = schemas.name();
  const url = new URL(postgresUrl as string);
  url.searchParams.set('schema', schema);
  const made: ShiftServer[] = [];
  for (let i = 0; i < count; i++) {
    const server = await startServer({
      db: url.href,
      dbPool: 3,
      cluster: await engine(kind, schema),
      answerRateLimits: false,
      drainSeconds: 0,
      ...options,
    });
    open.push(server);
    made.push(server);
  }
  return made;
}

async function device(server: ShiftServer, empId: number): Promise<TestClient> {
  const client = new TestClient(`${server.wsUrl}/${empId}`);
  clients.push(client);
  // A bound for a busy machine: 1,000 of these open at once beside other test files.
  return client.opened(15_000);
}

function accept(server: ShiftServer, empId: number, shiftId: number) {
  return post(server, '/api/shift_offer/respond', {
    emp_id: empId,
    shift_id: shiftId,
    response: 'accepted',
  });
}

const engines: Engine[] = ['redis', 'postgres'];

describe.skipIf(!postgresUrl || !redisUrl)(
  'three instances (set SHIFTCTL_TEST_POSTGRES and SHIFTCTL_TEST_REDIS to run)',
  () => {
    describe.each(engines)('sharing through %s', (kind) => {
      it('reaches every device of an employee on every instance, and counts them all', async () => {
        const [a, b, c] = await instances(kind, 3);
        if (!a || !b || !c) throw new Error('three servers');
        const onB = await device(b, 501);
        const onC = await device(c, 501);
        // Sent, not pending: presence is the cluster's, not the instance's that was asked.
        const sent = await post(a, '/api/test/send_offer/501?shift_id=7001');
        expect(sent.body).toMatchObject({ status: 'sent' });
        await onB.offer(7001);
        await onC.offer(7001);
        expect((await post(a, '/api/test/send_offer/502?shift_id=7002')).body).toMatchObject({
          status: 'pending',
        });
        const listed = (await get(a, '/api/connections')).body;
        expect(listed).toMatchObject({ active_connections: [501], sockets: 2 });
        // Delivery is marked by the instances that wrote to the sockets.
        await vi.waitFor(
          async () => {
            const shift = (await get(a, '/api/admin/shifts/7001')).body;
            expect(shift.holders[0].delivered_at ?? shift.holders[0].sent_at).not.toBeNull();
          },
          { timeout: 5000 },
        );
        // The answer through A tells the devices on B and C.
        expect((await accept(a, 501, 7001)).body).toMatchObject({ assigned: true });
        expect(await onB.result(7001)).toMatchObject({ status: 'assigned' });
        expect(await onC.result(7001)).toMatchObject({ status: 'assigned' });
      });

      it('kicks, caps devices and injects faults across instances', async () => {
        const [a, b, c] = await instances(kind, 3, { maxConnectionsPerEmployee: 2 });
        if (!a || !b || !c) throw new Error('three servers');
        const first = await device(a, 601);
        const second = await device(b, 601);
        const third = new TestClient(`${c.wsUrl}/601`);
        clients.push(third);
        const refused = await third.waitClose();
        expect(refused.code).not.toBe(1000);
        expect((await post(c, '/api/admin/kick/601')).body).toMatchObject({ disconnected: 2 });
        await first.waitClose();
        await second.waitClose();
        // The places are free again once the kicked sockets are gone.
        await vi.waitFor(
          async () => expect((await get(c, '/api/connections')).body.sockets).toBe(0),
          {
            timeout: 5000,
          },
        );
        await device(c, 601);

        await post(a, '/api/admin/faults', { refuse_connections_seconds: 60 });
        await vi.waitFor(async () => {
          expect(
            (await get(b, '/api/admin/faults')).body.refusing_connections_until,
          ).not.toBeNull();
        });
        const turnedAway = new TestClient(`${b.wsUrl}/602`);
        clients.push(turnedAway);
        expect((await turnedAway.waitClose()).code).not.toBe(1000);
        await post(c, '/api/admin/faults', { refuse_connections_seconds: 0 });
        await vi.waitFor(async () => {
          expect((await get(b, '/api/admin/faults')).body.refusing_connections_until).toBeNull();
        });
        await device(b, 602);
      });

      it('has exactly one winner among 1,000 accepts spread over the instances, and tells every loser', async () => {
        const servers = await instances(kind, 3);
        const empIds = Array.from({ length: 1000 }, (_, i) => 10_001 + i);
        const on = (i: number) => servers[i % 3] as ShiftServer;
        const devices = await Promise.all(empIds.map((empId, i) => device(on(i), empId)));
        const created = await post(on(0), '/api/admin/shifts', {
          id: 7100,
          date: '2026-02-01',
          start_time: '07:00',
          end_time: '15:00',
          offer_to: empIds,
        });
        expect(created.status).toBe(201);
        // Waits sized for a busy machine: 1,000 sockets and three servers share this process.
        await Promise.all(devices.map((d) => d.offer(7100, 30_000)));
        const answers = await Promise.all(empIds.map((empId, i) => accept(on(i + 1), empId, 7100)));
        expect(answers.every((a) => a.status === 200)).toBe(true);
        const winners = answers.filter((a) => a.body.assigned === true);
        expect(winners).toHaveLength(1);
        const winner = winners[0]?.body.emp_id as number;
        const results = await Promise.all(devices.map((d) => d.result(7100, 30_000)));
        expect(results.filter((r) => r.status === 'assigned')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'taken')).toHaveLength(999);
        expect(results[empIds.indexOf(winner)]?.status).toBe('assigned');
        const shift = (await get(on(2), '/api/admin/shifts/7100')).body;
        expect(shift).toMatchObject({ status: 'assigned', assigned_to: [winner] });
      }, 120_000);

      it('fires a deadline once, on the leader, whichever instance made the offer', async () => {
        const [a, b, c] = await instances(kind, 3);
        if (!a || !b || !c) throw new Error('three servers');
        const onC = await device(c, 701);
        // ttl 1 s, made through each instance in turn: each expires once and is told once.
        for (const [i, server] of [a, b, c].entries()) {
          await http(server, 'POST', `/api/test/send_offer/701?shift_id=${7200 + i}&ttl_seconds=1`);
        }
        for (let i = 0; i < 3; i++) {
          expect(await onC.result(7200 + i, 10_000)).toMatchObject({ status: 'expired' });
        }
        const told = onC.messages.filter((m) => m.type === 'offer_result');
        expect(told, JSON.stringify(onC.messages)).toHaveLength(3);
      });
    });

    it("limits an employee's answers across instances, with Redis", async () => {
      const servers = await instances('redis', 3, {
        answerRateLimits: {
          employee: { perSecond: 0.01, burst: 2 },
          address: { perSecond: 1000, burst: 1000 },
        },
      });
      const statuses: number[] = [];
      for (const server of servers) statuses.push((await accept(server, 901, 7400)).status);
      // Two answers (404: never offered) use the burst; the third, through another instance, is refused.
      expect(statuses).toEqual([404, 404, 429]);
    });

    it('is not ready while Redis cannot be reached, and says why', async () => {
      const schema = schemas.name();
      const url = new URL(postgresUrl as string);
      url.searchParams.set('schema', schema);
      const cluster = await createRedisCluster({
        url: redisUrl as string,
        group: `shiftctl:${schema}`,
      });
      const server = await startServer({ db: url.href, dbPool: 2, cluster, drainSeconds: 0 });
      open.push(server);
      expect((await get(server, '/readyz')).status).toBe(200);
      await cluster.crash();
      const ready = await get(server, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({
        code: 'E_UNAVAILABLE',
        message: expect.stringMatching(/redis/),
      });
    });

    it('hands the timers to another instance when the leader leaves', async () => {
      const [a, b] = await instances('redis', 2);
      if (!a || !b) throw new Error('two servers');
      const onB = await device(b, 801);
      // Whichever leads, closing A either removes the leader or leaves it leading.
      await http(a, 'POST', '/api/test/send_offer/801?shift_id=7300&ttl_seconds=2');
      await onB.offer(7300);
      await a.close();
      expect(await onB.result(7300, 10_000)).toMatchObject({ status: 'expired' });
    });
  },
);
