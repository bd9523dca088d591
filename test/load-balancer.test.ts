/**
 * Three real `serve` instances on PostgreSQL and Redis behind real HAProxy running the shipped
 * docs/haproxy.cfg (only its ports changed): `shiftctl verify` passes through it, and an
 * instance stopped with SIGTERM hands its clients over to the others. Skipped, by name, without
 * SHIFTCTL_TEST_POSTGRES, SHIFTCTL_TEST_REDIS or haproxy.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dropRedisGroup,
  haproxyBinary,
  type LbCluster,
  startLbCluster,
  waitForServers,
  withSchema,
} from '../src/bench/lb-cluster.js';
import { BIN, userEnv } from './cli-harness.js';
import { get, post, TestClient, withTimeout } from './helpers.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

const redisUrl = process.env.SHIFTCTL_TEST_REDIS || undefined;
const haproxy = haproxyBinary();

describe.skipIf(!postgresUrl || !redisUrl || !haproxy)(
  'three instances behind HAProxy (set SHIFTCTL_TEST_POSTGRES and SHIFTCTL_TEST_REDIS, and install haproxy, to run)',
  () => {
    const schemas = testSchemas();
    const schema = schemas.name();
    // Made in beforeAll: a skipped run (no hooks) must leave nothing behind.
    let dir = '';
    let cluster: LbCluster | undefined;
    const clients: TestClient[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'shiftctl-lb-'));
      cluster = await startLbCluster({
        db: withSchema(postgresUrl as string, schema),
        redis: redisUrl as string,
        // The rate limiter stays on: through the proxy it sees each client's address.
        serveArgs: ['--trust-proxy', 'loopback', '--no-fixtures', '--heartbeat', '5'],
        dir,
      });
    }, 60_000);

    afterAll(async () => {
      for (const c of clients) c.ws.terminate();
      try {
        await cluster?.stop();
        await dropRedisGroup(redisUrl as string, schema);
      } finally {
        await schemas.dropAll();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }, 30_000);

    const lb = () => cluster as LbCluster;

    it('passes shiftctl verify through the load balancer', async () => {
      const child = spawn(
        process.execPath,
        [BIN, 'verify', '--url', lb().url, '--level', 'should'],
        {
          cwd: dir,
          env: userEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        output += s;
      });
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        output += s;
      });
      const code = await withTimeout(
        new Promise<number | null>((resolve) => child.once('close', resolve)),
        60_000,
        'verify to finish',
      ).finally(() => child.kill('SIGKILL'));
      expect(output).toMatch(/\d+ passed, 0 failed/);
      expect({ code, output }).toMatchObject({ code: 0 });
    }, 70_000);

    it('hands the clients of an instance stopped with SIGTERM to the others', async () => {
      const empId = 4_000_000 + Math.floor(Math.random() * 1_000_000);
      const wsUrl = `${lb().url.replace(/^http/, 'ws')}/ws/${empId}`;
      const first = new TestClient(wsUrl);
      clients.push(first);
      await first.opened();

      // Which instance holds it: the one whose own count of sockets is 1.
      const holder = await withTimeout(
        (async () => {
          for (;;) {
            const counts = await Promise.all(
              lb().instances.map(async (i) => (await get(i, '/healthz')).body.connections),
            );
            const index = counts.indexOf(1);
            if (index >= 0 && counts.filter((c) => c === 0).length === 2) return index;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        })(),
        5000,
        'one instance to hold the socket',
      );
      const drained = lb().instances[holder];
      if (!drained) throw new Error('no instance holds the socket');

      const exited = new Promise<number | null>((resolve) => drained.child.once('exit', resolve));
      drained.child.kill('SIGTERM');
      // Closed with "going away", so the client reconnects at once, elsewhere.
      expect((await first.waitClose()).code).toBe(1001);

      const second = new TestClient(wsUrl);
      clients.push(second);
      await second.opened();
      expect(await withTimeout(exited, 15_000, 'the stopped instance to exit')).toBe(0);

      // HAProxy takes the stopped instance out of rotation, and only it.
      await waitForServers(
        lb().haproxy.stats,
        (states) =>
          states.length === 3 &&
          states.every((s, i) => (i === holder ? s.status.startsWith('DOWN') : s.status === 'UP')),
        `s${holder + 1} down and the others up`,
        10_000,
      );
      // The socket is on one of the other instances.
      const others = lb().instances.filter((_, i) => i !== holder);
      const counts = await Promise.all(
        others.map(async (i) => (await get(i, '/healthz')).body.connections),
      );
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1);

      // An offer made through the load balancer reaches it, whichever instance takes it.
      const shiftId = 900_000 + Math.floor(Math.random() * 100_000);
      const sent = await post(lb(), `/api/test/send_offer/${empId}?shift_id=${shiftId}`);
      expect(sent).toMatchObject({ status: 200, body: { status: 'sent' } });
      expect(await second.offer(shiftId)).toMatchObject({ type: 'shift_offer', shift_id: shiftId });
    }, 60_000);
  },
);
