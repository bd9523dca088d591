/**
 * What every cluster engine must do, through the `Cluster` interface only: run against Redis
 * and against PostgreSQL alone when their URLs are given. Instances made with the same group
 * share one cluster; groups are unique per test, so runs and tests never see each other.
 *
 * The engine's test file makes instances with short timings (presence expiring within about a
 * second, the lease likewise), so that a dead instance's traces go within the tests' waits.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Cluster, ClusterMessage } from '../src/cluster/types.js';

export interface TestInstance {
  cluster: Cluster;
  /** Drops the instance's connections without a goodbye, as `kill -9` would. */
  crash(): Promise<void>;
}

/** A fresh instance in `group`; every instance of a group shares presence, bus and lease. */
export type MakeInstance = (group: string) => Promise<TestInstance>;

/** How long a dead instance's presence and lease may outlive it, in the engine's test timings. */
const EXPIRY_WAIT_MS = 8000;

interface Received {
  message: ClusterMessage;
  from: string;
}

export function describeClusterContract(name: string, make: MakeInstance): void {
  describe(`${name} cluster contract`, () => {
    const open: TestInstance[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((i) => i.cluster.close().catch(() => undefined)));
    });

    /** `count` started instances of one new group, each with the messages it received. */
    async function group(count: number) {
      const id = `t${randomUUID().slice(0, 8)}`;
      const made: { instance: TestInstance; cluster: Cluster; received: Received[] }[] = [];
      for (let i = 0; i < count; i++) {
        const instance = await make(id);
        open.push(instance);
        const received: Received[] = [];
        await instance.cluster.start({
          message: (message, from) => received.push({ message, from }),
        });
        made.push({ instance, cluster: instance.cluster, received });
      }
      return made;
    }

    it('gives every instance a distinct id', async () => {
      const [a, b] = await group(2);
      expect(a?.cluster.instanceId).not.toBe(b?.cluster.instanceId);
    });

    it('counts devices across instances, and forgets them as they leave', async () => {
      const [a, b] = await group(2);
      if (!a || !b) throw new Error('two instances');
      expect(await a.cluster.join(1, 10)).toBe(1);
      expect(await b.cluster.join(1, 10)).toBe(2);
      expect(await b.cluster.join(2, 10)).toBe(1);
      expect(await a.cluster.presence()).toEqual(
        new Map([
          [1, 2],
          [2, 1],
        ]),
      );
      expect(await b.cluster.devices([2, 1, 3])).toEqual([1, 2, 0]);
      expect(await a.cluster.leave(1)).toBe(1);
      expect(await b.cluster.leave(2)).toBe(0);
      expect(await b.cluster.presence()).toEqual(new Map([[1, 1]]));
      expect(await a.cluster.instances()).toBe(2);
    });

    it('lets exactly `cap` devices of one employee in when instances race for the places', async () => {
      const instances = await group(3);
      const attempts = instances.flatMap(({ cluster }) =>
        Array.from({ length: 10 }, () => cluster.join(5, 3)),
      );
      const results = await Promise.all(attempts);
      expect(results.filter((r) => r !== null)).toHaveLength(3);
      expect(results.filter((r) => r === null)).toHaveLength(27);
      expect(await instances[0]?.cluster.devices([5])).toEqual([3]);
    });

    it('carries pushes to the instances holding the employees, in order, with the devices reached', async () => {
      const [a, b, c] = await group(3);
      if (!a || !b || !c) throw new Error('three instances');
      await b.cluster.join(7, 10);
      await c.cluster.join(7, 10);
      await c.cluster.join(8, 10);
      expect(await a.cluster.push([7, 8, 9], '{"type":"offer_result"}')).toEqual([2, 1, 0]);
      for (let i = 0; i < 100; i++) await a.cluster.push([7], `{"n":${i}}`);
      await vi.waitFor(() => expect(c.received).toHaveLength(101), { timeout: 5000 });
      await vi.waitFor(() => expect(b.received).toHaveLength(101), { timeout: 5000 });
      expect(b.received[0]).toEqual({
        message: { kind: 'push', empIds: [7, 8, 9], text: '{"type":"offer_result"}' },
        from: a.cluster.instanceId,
      });
      expect(c.received.slice(1).map((r) => r.message)).toEqual(
        Array.from({ length: 100 }, (_, i) => ({
          kind: 'push',
          empIds: [7],
          text: `{"n":${i}}`,
        })),
      );
      // Never back to the sender.
      expect(a.received).toEqual([]);
    });

    it('carries a push to 50,000 employees whole', async () => {
      const [a, b] = await group(2);
      if (!a || !b) throw new Error('two instances');
      await b.cluster.join(50_000, 10);
      const empIds = Array.from({ length: 50_000 }, (_, i) => i + 1);
      const reached = await a.cluster.push(empIds, '{"type":"shift_offer"}');
      expect(reached).toHaveLength(50_000);
      expect(reached[49_999]).toBe(1);
      await vi.waitFor(() => expect(b.received).toHaveLength(1), { timeout: 10_000 });
      expect(b.received[0]?.message).toEqual({
        kind: 'push',
        empIds,
        text: '{"type":"shift_offer"}',
      });
    });

    it('carries kicks, fault settings and deadlines to the other instances', async () => {
      const [a, b] = await group(2);
      if (!a || !b) throw new Error('two instances');
      const faults = { push_latency_ms: 5, http_latency_ms: 0, drop_rate: 0.5, refuse_until: 0 };
      await a.cluster.broadcast({ kind: 'kick', empId: 4 });
      await a.cluster.broadcast({ kind: 'faults', settings: faults });
      await a.cluster.broadcast({ kind: 'deadline', at: 1_900_000_000_000 });
      await vi.waitFor(() => expect(b.received).toHaveLength(3), { timeout: 5000 });
      expect(b.received.map((r) => r.message)).toEqual([
        { kind: 'kick', empId: 4 },
        { kind: 'faults', settings: faults },
        { kind: 'deadline', at: 1_900_000_000_000 },
      ]);
      expect(a.received).toEqual([]);
    });

    it('keeps fault settings for an instance that starts later', async () => {
      const [a] = await group(1);
      if (!a) throw new Error('one instance');
      expect(await a.cluster.loadFaults()).toBeUndefined();
      const faults = { push_latency_ms: 0, http_latency_ms: 20, drop_rate: 0, refuse_until: 99 };
      await a.cluster.saveFaults(faults);
      expect(await a.cluster.loadFaults()).toEqual(faults);
    });

    it('lets one instance lead the timers, and another take over when it leaves', async () => {
      const [a, b] = await group(2);
      if (!a || !b) throw new Error('two instances');
      expect(await a.cluster.lead()).toBe(true);
      expect(await b.cluster.lead()).toBe(false);
      expect(await a.cluster.lead()).toBe(true);
      expect(await b.cluster.lead()).toBe(false);
      await a.cluster.close();
      expect(await b.cluster.lead()).toBe(true);
    });

    it('hands the lead over when the leader dies without a word', async () => {
      const [a, b] = await group(2);
      if (!a || !b) throw new Error('two instances');
      expect(await a.cluster.lead()).toBe(true);
      await a.instance.crash();
      await vi.waitFor(async () => expect(await b.cluster.lead()).toBe(true), {
        timeout: EXPIRY_WAIT_MS,
        interval: 100,
      });
    });

    it('leaves no ghost presence behind an instance that died', async () => {
      const [a, b] = await group(2);
      if (!a || !b) throw new Error('two instances');
      await a.cluster.join(11, 10);
      await b.cluster.join(11, 10);
      await b.cluster.join(12, 10);
      await b.instance.crash();
      await vi.waitFor(async () => expect(await a.cluster.presence()).toEqual(new Map([[11, 1]])), {
        timeout: EXPIRY_WAIT_MS,
        interval: 100,
      });
      expect(await a.cluster.devices([11, 12])).toEqual([1, 0]);
      expect(await a.cluster.instances()).toBe(1);
      // The dead instance's places are free again.
      expect(await a.cluster.join(12, 1)).toBe(1);
    });

    it('takes its presence away at once when it closes', async () => {
      const [a, b] = await group(2);
      if (!a || !b) throw new Error('two instances');
      await a.cluster.join(3, 10);
      await a.cluster.close();
      expect(await b.cluster.presence()).toEqual(new Map());
      expect(await b.cluster.instances()).toBe(1);
    });

    it('answers a ping with its round trip', async () => {
      const [a] = await group(1);
      const ms = await a?.cluster.ping();
      expect(ms).toBeGreaterThanOrEqual(0);
    });

    it('shares rate limits between instances, where it has them', async () => {
      const [a, b] = await group(2);
      if (!a || !b) throw new Error('two instances');
      const make = a.cluster.rateLimiter;
      if (!make || !b.cluster.rateLimiter) return; // this engine limits per instance
      const limit = { perSecond: 0.5, burst: 3 };
      const onA = make(limit);
      const onB = b.cluster.rateLimiter(limit);
      expect(await onA.take('emp:1')).toEqual({ ok: true });
      expect(await onB.take('emp:1')).toEqual({ ok: true });
      expect(await onA.take('emp:1')).toEqual({ ok: true });
      const refused = await onB.take('emp:1');
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      // Another key has its own bucket.
      expect(await onB.take('emp:2')).toEqual({ ok: true });
      await onA.giveBack('emp:1');
      expect(await onB.take('emp:1')).toEqual({ ok: true });
      expect((await onA.take('emp:1')).ok).toBe(false);
    });
  });
}
