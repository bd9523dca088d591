/**
 * The Redis engine of the cluster port: the contract every engine passes, plus what only Redis
 * has to get right (a bus connection that drops and comes back, an unreachable URL at start).
 * Runs when SHIFTCTL_TEST_REDIS names a Redis server; every key a test makes is deleted after.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisCluster, type RedisCluster } from '../src/cluster/redis.js';
import { describeClusterContract } from './cluster-contract.js';

const redisUrl = process.env.SHIFTCTL_TEST_REDIS || undefined;

/** Short timings, so that a dead instance's presence and lease go within the tests' waits. */
const TIMINGS = { heartbeatMs: 200, instanceTtlMs: 1000, leaseTtlMs: 1000, leaseRenewMs: 200 };

describe.skipIf(redisUrl === undefined)('redis (set SHIFTCTL_TEST_REDIS to run)', () => {
  const url = redisUrl ?? '';
  const groups = new Set<string>();
  const make = (group: string) => {
    groups.add(group);
    return createRedisCluster({ url, group, ...TIMINGS });
  };

  afterAll(async () => {
    const redis = new Redis(url);
    try {
      for (const group of groups) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${group}:*`, 'COUNT', 1000);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
    } finally {
      redis.disconnect();
    }
  });

  describeClusterContract('redis', async (group) => {
    const cluster = await make(group);
    return { cluster, crash: async () => cluster.crash() };
  });

  describe('redis engine', () => {
    const open: RedisCluster[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
    });
    const pair = async () => {
      const group = `t${randomUUID().slice(0, 8)}`;
      const a = await make(group);
      const b = await make(group);
      open.push(a, b);
      return [a, b, group] as const;
    };

    it('rewrites its presence after a leave that Redis refused, without the device that left', async () => {
      const [a, b, group] = await pair();
      await a.start({ message: () => undefined });
      await b.start({ message: () => undefined });
      await a.join(5, 10);
      await a.join(6, 10);
      // Make a's hash unusable, so that the leave's script fails as a lost link would.
      const admin = new Redis(url);
      try {
        await admin.set(`${group}:presence:${a.instanceId}`, 'not a hash');
        await expect(a.leave(5)).rejects.toThrow(/WRONGTYPE/);
      } finally {
        admin.disconnect();
      }
      // The next heartbeat writes the hash back from what a holds: 6 still here, 5 gone.
      await vi.waitFor(async () => expect(await b.devices([5, 6])).toEqual([0, 1]), {
        timeout: 5000,
      });
    });

    it('sends a push only to the instances that hold one of its employees', async () => {
      const [a, b, group] = await pair();
      const c = await make(group);
      open.push(c);
      const heard: Record<string, unknown[]> = { a: [], b: [], c: [] };
      await a.start({ message: (m) => heard.a?.push(m) });
      await b.start({ message: (m) => heard.b?.push(m) });
      await c.start({ message: (m) => heard.c?.push(m) });
      await b.join(2, 10);
      await c.join(1, 10);
      expect(await a.push([1], '{"to":"c"}')).toEqual([1]);
      expect(await a.push([2], '{"to":"b"}')).toEqual([1]);
      expect(await a.push([1, 2, 3], '{"to":"both"}')).toEqual([1, 1, 0]);
      // One connection delivers in publish order: had b heard the first push, it came first.
      await vi.waitFor(() => expect(heard.b).toHaveLength(2), { timeout: 5000 });
      await vi.waitFor(() => expect(heard.c).toHaveLength(2), { timeout: 5000 });
      expect(heard.b).toEqual([
        { kind: 'push', empIds: [2], text: '{"to":"b"}' },
        { kind: 'push', empIds: [1, 2, 3], text: '{"to":"both"}' },
      ]);
      expect(heard.c).toEqual([
        { kind: 'push', empIds: [1], text: '{"to":"c"}' },
        { kind: 'push', empIds: [1, 2, 3], text: '{"to":"both"}' },
      ]);
      expect(heard.a).toEqual([]);
    });

    it('tells `resumed` once the bus connection is back, and carries messages again', async () => {
      const [a, b] = await pair();
      const received: unknown[] = [];
      const resumed = vi.fn();
      const warn = vi.fn();
      await a.start({ message: (m) => received.push(m), resumed, warn });
      await b.start({ message: () => undefined });

      // Cut a's subscriber connection from outside, as a network fault or a Redis restart would.
      const admin = new Redis(url);
      try {
        const list = await admin.client('LIST');
        const line = String(list)
          .split('\n')
          .find((l) => l.includes(`name=shiftctl:`) && l.includes(`:sub:${a.instanceId}`));
        const id = line?.match(/\bid=(\d+)/)?.[1];
        expect(id).toBeDefined();
        await admin.client('KILL', 'ID', id ?? '');
      } finally {
        admin.disconnect();
      }

      await vi.waitFor(() => expect(resumed).toHaveBeenCalledTimes(1), { timeout: 5000 });
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('Lost the Redis bus connection'),
        expect.anything(),
      );
      const lost = warn.mock.calls.filter(([m]) => String(m).startsWith('Lost')).length;
      expect(lost).toBe(1);
      await b.broadcast({ kind: 'kick', empId: 9 });
      await vi.waitFor(() => expect(received).toEqual([{ kind: 'kick', empId: 9 }]), {
        timeout: 5000,
      });
    });

    it('writes its presence back when Redis lost it', async () => {
      const [a, b, group] = await pair();
      await a.start({ message: () => undefined });
      await b.start({ message: () => undefined });
      await a.join(1, 10);
      await a.join(1, 10);
      await a.join(2, 10);
      // As a Redis restarted without persistence would: everything of the group is gone.
      const admin = new Redis(url);
      try {
        const keys = await admin.keys(`${group}:*`);
        await admin.del(...keys);
      } finally {
        admin.disconnect();
      }
      expect(await b.presence()).toEqual(new Map());
      await vi.waitFor(
        async () =>
          expect(await b.presence()).toEqual(
            new Map([
              [1, 2],
              [2, 1],
            ]),
          ),
        { timeout: 5000, interval: 100 },
      );
      expect(await b.instances()).toBe(2);
    });

    it('refills shared buckets as the local limiter does, and lets idle ones vanish', async () => {
      const [a, , group] = await pair();
      const limiter = a.rateLimiter({ perSecond: 0.5, burst: 1 });
      expect(await limiter.take('ip:1')).toEqual({ ok: true });
      // No token left, one every 2 s: ceil((1 - tokens) / perSecond) = 2.
      expect(await limiter.take('ip:1')).toEqual({ ok: false, retryAfterSeconds: 2 });
      const admin = new Redis(url);
      try {
        const [key] = await admin.keys(`${group}:rl:*ip:1`);
        expect(key).toBeDefined();
        // Full again within 2 s (the bucket was empty), plus a second's margin.
        const ttl = await admin.pttl(key ?? '');
        expect(ttl).toBeGreaterThan(2000);
        expect(ttl).toBeLessThanOrEqual(3000);
      } finally {
        admin.disconnect();
      }
    });

    it('fails at once, naming the URL without its password, when Redis cannot be reached', async () => {
      const started = Date.now();
      await expect(
        createRedisCluster({ url: 'redis://user:secret@127.0.0.1:1', group: 'unreachable' }),
      ).rejects.toMatchObject({
        code: 'E_REDIS',
        message: expect.stringMatching(
          /^Cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1/,
        ),
      });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('says the server at the URL hung up when something other than Redis listens there', async () => {
      // Another service's port (PostgreSQL's, say): it closes on Redis's first command.
      const other = createNetServer((socket) => socket.once('data', () => socket.destroy()));
      other.listen(0, '127.0.0.1');
      await once(other, 'listening');
      const { port } = other.address() as { port: number };
      try {
        await expect(
          createRedisCluster({ url: `redis://127.0.0.1:${port}`, group: 'not-redis' }),
        ).rejects.toMatchObject({
          code: 'E_REDIS',
          message: expect.stringMatching(/the server there hung up .*: is Redis on that port\?$/),
        });
      } finally {
        other.close();
      }
    });

    it('fails at start on a database number Redis does not have, rather than use database 0', async () => {
      const wrong = new URL(url);
      wrong.pathname = '/99';
      await expect(
        createRedisCluster({ url: wrong.href, group: `nodb-${randomUUID()}` }),
      ).rejects.toMatchObject({
        code: 'E_REDIS',
        message: expect.stringMatching(/cannot use database 99: .*out of range/),
      });
    });
  });
});
