/**
 * A server whose PostgreSQL or Redis goes away while it runs: requests get 503 `E_UNAVAILABLE`
 * (try again, perhaps on another instance), never a 500 or a stack trace in the log, and none
 * hangs on the dead link; once the link is back the same requests succeed. The link is cut in a
 * TCP relay (test/relay.ts), so the real services stay up for the other test files. Skipped, by
 * name, without SHIFTCTL_TEST_POSTGRES (and SHIFTCTL_TEST_REDIS for Redis).
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisCluster } from '../src/cluster/redis.js';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { createLogger } from '../src/server/log.js';
import { get, post, respond, startServer } from './helpers.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';
import { type Relay, tcpRelay } from './relay.js';

const redisUrl = process.env.SHIFTCTL_TEST_REDIS || undefined;
const schemas = testSchemas();
afterAll(() => schemas.dropAll());

const servers: ShiftServer[] = [];
const relays: Relay[] = [];
afterEach(async () => {
  // Mended first, so that the servers close over working links.
  const used = relays.splice(0);
  for (const relay of used) await relay.mend();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const relay of used) await relay.close();
});

async function relayTo(url: string, defaultPort: number): Promise<{ relay: Relay; url: URL }> {
  const target = new URL(url);
  const relay = await tcpRelay(target.hostname, Number(target.port || defaultPort));
  relays.push(relay);
  target.port = String(relay.port);
  return { relay, url: target };
}

/** A server logging JSON lines into `lines`, on a new schema of the test database. */
async function serveLogged(options: ServerOptions & { db: string }) {
  const lines: string[] = [];
  const sink = { write: (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)) };
  const server = await startServer({
    drainSeconds: 0,
    log: createLogger({ format: 'json', out: sink, err: sink }),
    ...options,
  });
  servers.push(server);
  return { server, lines };
}

function withSchema(url: URL | string): string {
  const copy = new URL(url);
  copy.searchParams.set('schema', schemas.name());
  return copy.href;
}

/** Neither a 500 nor a stack trace: a dependency away is not a bug. */
function expectNoBugReported(lines: string[]) {
  expect(lines.filter((l) => /unexpected error|E_INTERNAL|\\n\s+at /.test(l))).toEqual([]);
}

describe.skipIf(!postgresUrl)(
  'a server whose PostgreSQL goes away (set SHIFTCTL_TEST_POSTGRES to run)',
  { timeout: 30_000 },
  () => {
    it('answers 503 E_UNAVAILABLE to reads, writes and /readyz, and serves again once it is back', async () => {
      const { relay, url } = await relayTo(postgresUrl as string, 5432);
      const { server, lines } = await serveLogged({ db: withSchema(url), dbPool: 2 });
      expect((await post(server, '/api/test/send_offer/1?shift_id=10')).status).toBe(200);

      await relay.cut();
      for (const answer of [
        await get(server, '/api/shift_offers/pending/1'),
        await respond(server, 1, 10, 'accepted'),
        await post(server, '/api/test/send_offer/1?shift_id=11'),
        await get(server, '/readyz'),
      ]) {
        expect(answer.status).toBe(503);
        expect(answer.body).toMatchObject({ code: 'E_UNAVAILABLE' });
        expect(answer.body.message).toMatch(/cannot reach the database/);
        expect(answer.body.message).not.toContain(String(relay.port));
      }
      expectNoBugReported(lines);
      // One line for the requests turned away (not one each), one for the writes that failed.
      expect(lines.filter((l) => l.includes('cannot be reached'))).toHaveLength(1);
      expect(
        lines.filter((l) => l.includes('Writing to the database failed; trying again')),
      ).toHaveLength(1);

      await relay.mend();
      await vi.waitFor(
        async () => expect((await respond(server, 1, 10, 'accepted')).status).toBe(200),
        { timeout: 15_000, interval: 100 },
      );
      expect((await get(server, '/readyz')).status).toBe(200);
      expect(lines.filter((l) => l.includes('Writing to the database works again'))).toHaveLength(
        1,
      );
    });
  },
);

describe.skipIf(!postgresUrl || !redisUrl)(
  'a server whose Redis goes away (set SHIFTCTL_TEST_POSTGRES and SHIFTCTL_TEST_REDIS to run)',
  { timeout: 30_000 },
  () => {
    it('answers 503 E_UNAVAILABLE without waiting on the dead link, and serves again once it is back', async () => {
      const { relay, url } = await relayTo(redisUrl as string, 6379);
      const schema = schemas.name();
      const db = new URL(postgresUrl as string);
      db.searchParams.set('schema', schema);
      const cluster = await createRedisCluster({ url: url.href, group: `shiftctl:${schema}` });
      const { server, lines } = await serveLogged({ db: db.href, dbPool: 2, cluster });
      expect((await post(server, '/api/test/send_offer/1?shift_id=10')).status).toBe(200);

      await relay.cut();
      await vi.waitFor(async () => expect((await get(server, '/readyz')).status).toBe(503), {
        timeout: 10_000,
        interval: 100,
      });
      // Once the link has been down a moment, commands fail at once instead of waiting, queued,
      // for ioredis's reconnection attempts (2 s apart once an outage lasts: a request making
      // several hung for 8-12 s).
      await vi.waitFor(
        async () =>
          expect(await cluster.devices([1]).catch((err: Error) => err.message)).toMatch(
            /^Stream isn't writeable/,
          ),
        { timeout: 10_000, interval: 100 },
      );
      // An answer goes through the shared rate limit, in Redis.
      const answer = await respond(server, 1, 10, 'accepted');
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ code: 'E_UNAVAILABLE' });
      expect(answer.body.message).toMatch(/cannot reach Redis/);
      expectNoBugReported(lines);

      await relay.mend();
      await vi.waitFor(
        async () => expect((await respond(server, 1, 10, 'accepted')).status).toBe(200),
        { timeout: 15_000, interval: 100 },
      );
      expect(await cluster.devices([1])).toEqual([0]);
    });
  },
);
