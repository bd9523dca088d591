/** The PostgreSQL cluster engine: the contract, and what only this engine does. */
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  channelOf,
  createPostgresCluster,
  NOTIFY_MAX_BYTES,
  type PostgresCluster,
} from '../src/cluster/postgres.js';
import type { ClusterMessage } from '../src/cluster/types.js';
import { describeClusterContract } from './cluster-contract.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

describe.skipIf(!postgresUrl)('postgres cluster (set SHIFTCTL_TEST_POSTGRES to run)', () => {
  const schemas = testSchemas();
  /** One schema per contract group, so that a group's instances share presence, bus and lease. */
  const ofGroup = new Map<string, string>();
  afterAll(() => schemas.dropAll());

  const instance = (schema: string, warn?: (message: string) => void) =>
    createPostgresCluster({
      url: postgresUrl ?? '',
      schema,
      heartbeatMs: 200,
      instanceTtlMs: 1000,
      leaseRenewMs: 200,
      warn: warn ?? (() => {}),
    });

  describeClusterContract('postgres', async (group) => {
    let schema = ofGroup.get(group);
    if (!schema) {
      schema = schemas.name();
      ofGroup.set(group, schema);
    }
    const cluster = await instance(schema);
    return { cluster, crash: () => cluster.crash() };
  });

  describe('postgres engine', () => {
    const open: PostgresCluster[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
    });

    async function started(schema: string, handlers: Parameters<PostgresCluster['start']>[0]) {
      const cluster = await instance(schema);
      open.push(cluster);
      await cluster.start(handlers);
      return cluster;
    }

    it('resumes after its listening connection is cut, and receives again', async () => {
      const schema = schemas.name();
      const received: ClusterMessage[] = [];
      const resumed = vi.fn();
      const warnings: string[] = [];
      const a = await started(schema, { message: () => {} });
      const b = await started(schema, {
        message: (m) => received.push(m),
        resumed,
        warn: (m) => warnings.push(m),
      });
      await a.broadcast({ kind: 'kick', empId: 1 });
      await vi.waitFor(() => expect(received).toHaveLength(1));

      const admin = postgres(postgresUrl ?? '', { max: 1, onnotice: () => {} });
      try {
        const cut = await admin<{ ok: boolean }[]>`
          SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE application_name = ${`shiftctl/${b.instanceId}/${schema}`}
            AND query ILIKE 'listen %'`;
        expect(cut.map((r) => r.ok)).toEqual([true]);
      } finally {
        await admin.end();
      }
      await vi.waitFor(() => expect(resumed).toHaveBeenCalledTimes(1), { timeout: 5000 });
      expect(warnings.some((w) => w.includes('reconnected'))).toBe(true);

      await a.broadcast({ kind: 'kick', empId: 2 });
      await vi.waitFor(() => expect(received).toHaveLength(2));
      expect(received[1]).toEqual({ kind: 'kick', empId: 2 });
    });

    it('keeps the order of small and large messages (the large through the table)', async () => {
      const schema = schemas.name();
      const received: ClusterMessage[] = [];
      const a = await started(schema, { message: () => {} });
      await started(schema, { message: (m) => received.push(m) });
      const sent: ClusterMessage[] = [];
      for (let i = 0; i < 40; i++) {
        // Around the limit of a notification, on both sides of it, and far over it.
        const size = [10, NOTIFY_MAX_BYTES - 60, NOTIFY_MAX_BYTES + 10, 100_000][i % 4] ?? 10;
        const message: ClusterMessage = { kind: 'push', empIds: [i], text: 'x'.repeat(size) };
        sent.push(message);
        await a.push([i], message.kind === 'push' ? message.text : '');
      }
      await vi.waitFor(() => expect(received).toHaveLength(40), { timeout: 5000 });
      expect(received).toEqual(sent);
    });

    it('sends in order without waiting for each send', async () => {
      const schema = schemas.name();
      const received: ClusterMessage[] = [];
      const a = await started(schema, { message: () => {} });
      await started(schema, { message: (m) => received.push(m) });
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => a.broadcast({ kind: 'deadline', at: i })),
      );
      await vi.waitFor(() => expect(received).toHaveLength(200), { timeout: 5000 });
      expect(received.map((m) => (m.kind === 'deadline' ? m.at : -1))).toEqual(
        Array.from({ length: 200 }, (_, i) => i),
      );
    });

    it('writes its presence back after it was taken for dead and cleaned away', async () => {
      const schema = schemas.name();
      const warnings: string[] = [];
      const a = await started(schema, { message: () => {}, warn: (m) => warnings.push(m) });
      const b = await started(schema, { message: () => {} });
      await a.join(21, 10);
      await a.join(21, 10);
      await a.join(22, 10);
      await a.leave(22);
      // As if a's heartbeats had not reached the database for longer than the TTL, and
      // another instance had cleaned its row and presence away.
      const admin = postgres(postgresUrl ?? '', { max: 1, onnotice: () => {} });
      try {
        await admin.begin((tx) => [
          tx`DELETE FROM ${tx(schema)}.cluster_presence WHERE instance = ${a.instanceId}`,
          tx`DELETE FROM ${tx(schema)}.cluster_instances WHERE id = ${a.instanceId}`,
        ]);
      } finally {
        await admin.end();
      }
      await vi.waitFor(async () => expect(await b.presence()).toEqual(new Map([[21, 2]])), {
        timeout: 3000,
        interval: 50,
      });
      expect(warnings.some((w) => w.includes('had expired'))).toBe(true);
    });

    it('writes its presence back when it was cleaned away while its heartbeat was under way', async () => {
      const schema = schemas.name();
      const a = await started(schema, { message: () => {} });
      const b = await started(schema, { message: () => {} });
      await a.join(31, 10);
      // Another instance's clean-up holds a's row while a's next heartbeat waits on it: the
      // heartbeat's snapshot still sees the row alive, but the row is gone when it gets it.
      const admin = postgres(postgresUrl ?? '', { max: 2, onnotice: () => {} });
      try {
        await admin.begin(async (tx) => {
          await tx`DELETE FROM ${tx(schema)}.cluster_presence WHERE instance = ${a.instanceId}`;
          await tx`DELETE FROM ${tx(schema)}.cluster_instances WHERE id = ${a.instanceId}`;
          await vi.waitFor(
            async () => {
              const [row] = await admin<{ n: number }[]>`
                SELECT COUNT(*)::int AS n FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND query LIKE '%INTO cluster_instances%'`;
              expect(row?.n).toBe(1);
            },
            { timeout: 3000, interval: 20 },
          );
        });
      } finally {
        await admin.end();
      }
      await vi.waitFor(async () => expect(await b.presence()).toEqual(new Map([[31, 1]])), {
        timeout: 3000,
        interval: 50,
      });
    });

    it('names a channel that fits an identifier, whatever the schema', () => {
      expect(channelOf('shiftctl_t_abc')).toBe('shiftctl/shiftctl_t_abc');
      const long = channelOf('s'.repeat(63));
      expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
      expect(long).not.toBe(channelOf(`${'s'.repeat(62)}t`));
    });

    it('says in one line when the database cannot be reached', async () => {
      const url = 'postgres://root:secret@127.0.0.1:1/test';
      const failed = createPostgresCluster({ url });
      await expect(failed).rejects.toMatchObject({ code: 'E_DATABASE' });
      const message = await failed.catch((err: Error) => err.message);
      expect(message).toMatch(
        /^Cannot use the database at postgres:\/\/root:\*\*\*@127\.0\.0\.1:1/,
      );
      expect(message).not.toContain('\n');
      expect(message).not.toContain('secret');
    });
  });
});
