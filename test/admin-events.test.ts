/**
 * The dashboard's push stream (`GET /api/admin/events`) and the scenario endpoint, over real
 * HTTP from a real server: journal lines as they are written, catch-up after a break, admin
 * permission, and nothing that keeps a closing server waiting.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth/token.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { parseEvents, type StreamEvent } from '../src/web/events.js';
import { connect, get, http, post, respond, startServer, withTimeout } from './helpers.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

const WAIT_MS = 5000;
const SHIFT = { date: '2026-12-01', start_time: '22:00', end_time: '07:00' };

interface JournalLine {
  id: number;
  kind: string;
  emp_id: number | null;
  shift_id: number | null;
  name: string;
  outcome: string;
}

/** A stream read as a browser's fetch() reads it, recording every event. */
async function openStream(server: ShiftServer, headers: Record<string, string> = {}, search = '') {
  const abort = new AbortController();
  const res = await fetch(`${server.url}/api/admin/events${search}`, {
    headers,
    signal: abort.signal,
  });
  const events: StreamEvent[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const done = (async () => {
    if (!res.ok || !res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        const parsed = parseEvents(buffer + value);
        buffer = parsed.rest;
        events.push(...parsed.events);
        for (const wake of waiters) wake();
      }
    } catch {
      // aborted
    } finally {
      ended = true;
      for (const wake of waiters) wake();
    }
  })();

  /** The first event that matches, waiting for it. */
  function waitFor(match: (e: StreamEvent) => boolean, what: string): Promise<StreamEvent> {
    return withTimeout(
      new Promise<StreamEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (ended) {
            waiters.delete(check);
            reject(new Error(`the stream ended before ${what}`));
          }
        };
        waiters.add(check);
        check();
      }),
      WAIT_MS,
      what,
    );
  }
  const lines = () => events.filter((e) => e.event === 'journal').map((e) => e.data as JournalLine);
  return {
    res,
    events,
    lines,
    waitFor,
    line: (match: (l: JournalLine) => boolean, what: string) =>
      waitFor((e) => e.event === 'journal' && match(e.data as JournalLine), what).then(
        (e) => e.data as JournalLine,
      ),
    ended: () => done,
    close: () => abort.abort(),
  };
}

describe('GET /api/admin/events', () => {
  const servers: ShiftServer[] = [];
  const cleanups: Array<() => void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  async function serve(options: Parameters<typeof startServer>[0] = {}) {
    const server = await startServer(options);
    servers.push(server);
    return server;
  }
  async function stream(server: ShiftServer, headers?: Record<string, string>, search?: string) {
    const s = await openStream(server, headers, search);
    cleanups.push(s.close);
    return s;
  }

  it('streams journal lines with their ids as they are written, and presence', async () => {
    const server = await serve();
    await post(server, '/api/test/send_offer/101?shift_id=7');
    const s = await stream(server);
    expect(s.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(s.res.headers.get('cache-control')).toBe('no-store');
    const hello = await s.waitFor((e) => e.event === 'hello', 'hello');
    const before = (hello.data as { last_id: number }).last_id;
    expect(before).toBeGreaterThan(0);

    const client = await connect(server, 102);
    cleanups.push(() => client.close());
    await s.waitFor(
      (e) => e.event === 'presence' && (e.data as { emp_id: number }).emp_id === 102,
      'presence of 102',
    );
    await post(server, '/api/test/send_offer/102?shift_id=8');
    const push = await s.line(
      (l) => l.kind === 'push' && l.emp_id === 102 && l.shift_id === 8,
      'the push to 102',
    );
    expect(push).toMatchObject({ name: 'shift_offer', outcome: 'sent' });
    await respond(server, 102, 8, 'accepted');
    await s.line((l) => l.name === 'offer_result' && l.emp_id === 102, 'the offer_result push');
    // Only lines after the stream opened, once each, in id order, each event carrying its id.
    const ids = s.lines().map((l) => l.id);
    expect(ids[0]).toBeGreaterThan(before);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    for (const e of s.events.filter((x) => x.event === 'journal')) {
      expect(e.id).toBe((e.data as JournalLine).id);
    }
    // The journal API agrees with the stream.
    const journal = await get(server, `/api/admin/journal?after_id=${before}&limit=1000`);
    expect(journal.body.map((l: JournalLine) => l.id).slice(0, ids.length)).toEqual(ids);
  });

  it("carries a request's line within a second of its answer", async () => {
    const server = await serve();
    const s = await stream(server);
    await s.waitFor((e) => e.event === 'hello', 'hello');
    const took: number[] = [];
    for (let shiftId = 1; shiftId <= 20; shiftId++) {
      const started = performance.now();
      await post(server, `/api/test/send_offer/101?shift_id=${shiftId}`);
      await s.line((l) => l.name.startsWith('POST') && l.shift_id === shiftId, `line ${shiftId}`);
      took.push(performance.now() - started);
    }
    took.sort((a, b) => a - b);
    console.log(
      `request to its line on the stream: median ${took[10]?.toFixed(1)} ms, max ${took[19]?.toFixed(1)} ms`,
    );
    expect(took[19]).toBeLessThan(1000);
  });

  it('catches up from Last-Event-ID (or after_id) after a break, across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-events-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = join(dir, 'shifts.db');
    const first = await startServer({ db });
    const s = await openStream(first);
    await post(first, '/api/test/send_offer/101?shift_id=7');
    const seen = await s.line((l) => l.name.startsWith('POST'), 'the request line');
    // The server goes away: the stream ends at once (closing does not wait for it).
    const started = Date.now();
    await first.close();
    await s.ended();
    expect(Date.now() - started).toBeLessThan(2000);

    const second = await serve({ db, port: first.port });
    // fetch's pool may hold a keep-alive socket to the first server, which is gone: once more.
    const send = () => post(second, '/api/test/send_offer/102?shift_id=8');
    await send().catch(send);
    const again = await stream(second, { 'last-event-id': String(seen.id) });
    const missed = await again.line((l) => l.emp_id === 102, 'the line written meanwhile');
    expect(missed.id).toBeGreaterThan(seen.id);
    expect(again.lines()[0]?.id).toBe(seen.id + 1);

    const byQuery = await stream(second, { accept: 'text/event-stream' });
    await byQuery.waitFor((e) => e.event === 'hello', 'hello');
    expect(byQuery.lines()).toEqual([]);
    const fromQuery = await stream(second, {}, `?after_id=${seen.id}`);
    await fromQuery.line((l) => l.emp_id === 102, 'the line written meanwhile');
    expect(fromQuery.lines()[0]?.id).toBe(seen.id + 1);
  });

  it('closes a kept-alive connection answered during the close at once, not after its keep-alive timeout', async () => {
    const server = await serve();
    // Requests (but the admin API's) are held 400 ms: one is in flight when the close starts.
    expect((await post(server, '/api/admin/faults', { http_latency_ms: 400 })).status).toBe(200);
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const req = request(`${server.url}/api/shift_offers/pending/1`, { agent });
    const answered = new Promise<{ status: number | undefined; connection: unknown }>(
      (resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode, connection: res.headers.connection }),
          );
        });
        req.on('error', reject);
      },
    );
    req.end();
    await once(req, 'finish');
    const started = Date.now();
    const closed = server.close();
    // Answered in full (the grace period), as keep-alive, which Node does not change...
    expect(await withTimeout(answered, WAIT_MS, 'the answer')).toEqual({
      status: 200,
      connection: 'keep-alive',
    });
    // ...but the socket is closed as soon as it is idle: the close does not wait 5 s for it.
    await withTimeout(closed, WAIT_MS, 'the close');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('skips ahead with a gap event when a client comes back too far behind', async () => {
    const server = await serve();
    await post(server, '/api/test/send_offer/1?shift_id=7');
    const first = (await get(server, '/api/admin/journal?limit=1')).body[0].id as number;
    // One push to 1 200 employees with no device: as many journal lines.
    const ids = Array.from({ length: 1200 }, (_, i) => i + 10);
    expect((await post(server, '/api/admin/shifts', { ...SHIFT, offer_to: ids })).status).toBe(201);
    const s = await stream(server, { 'last-event-id': String(first) });
    const gap = await s.waitFor((e) => e.event === 'gap', 'the gap');
    const { resumed_after_id: resumed } = gap.data as { resumed_after_id: number };
    expect(gap.data).toMatchObject({ after_id: first });
    await s.line((l) => l.name === 'POST /api/admin/shifts', 'the last line');
    expect(s.lines()[0]?.id).toBe(resumed + 1);
    expect(s.lines().length).toBeLessThanOrEqual(1000);
  });

  it('from Last-Event-ID 0, sends the whole journal (more than a page of it)', async () => {
    const server = await serve();
    const ids = Array.from({ length: 700 }, (_, i) => i + 10);
    expect((await post(server, '/api/admin/shifts', { ...SHIFT, offer_to: ids })).status).toBe(201);
    const s = await stream(server, { 'last-event-id': '0' });
    await s.line((l) => l.name === 'POST /api/admin/shifts', 'the last line');
    expect(s.lines()).toHaveLength(701);
    expect(s.lines()[0]?.id).toBe(1);
  });

  it('refuses bad cursors and other methods with JSON errors', async () => {
    const server = await serve();
    const bad = await http(server, 'GET', '/api/admin/events?after_id=abc');
    expect([bad.status, bad.body.code]).toEqual([400, 'E_INVALID_QUERY']);
    const badHeader = await http(server, 'GET', '/api/admin/events', undefined, {
      headers: { 'last-event-id': '-1' },
    });
    expect(badHeader.status).toBe(400);
    const wrong = await http(server, 'POST', '/api/admin/events', {});
    expect([wrong.status, wrong.body.code]).toEqual([405, 'E_METHOD_NOT_ALLOWED']);
    expect(wrong.headers.get('allow')).toContain('GET');
    // HEAD says what GET would be, and ends.
    const head = await fetch(`${server.url}/api/admin/events`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type')]).toEqual([
      200,
      expect.stringMatching(/^text\/event-stream/),
    ]);
    // The JSON index names it.
    expect((await get(server, '/')).body.events).toBe('/api/admin/events');
  });

  it('needs an admin token on a --secret server', async () => {
    const secret = 'events-secret-0123456789abcdef';
    const server = await serve({ secret });
    const none = await http(server, 'GET', '/api/admin/events');
    expect([none.status, none.body.code]).toEqual([401, 'E_AUTH_REQUIRED']);
    const employee = await signToken({ emp_id: 101, role: 'employee' }, secret, 600);
    const refused = await http(server, 'GET', '/api/admin/events', undefined, {
      headers: { authorization: `Bearer ${employee}` },
    });
    expect([refused.status, refused.body.code]).toEqual([403, 'E_FORBIDDEN']);
    const admin = await signToken({ role: 'admin' }, secret, 600);
    const s = await stream(server, { authorization: `Bearer ${admin}` });
    expect(s.res.status).toBe(200);
    await s.waitFor((e) => e.event === 'hello', 'hello');
  });
});

describe('POST /api/admin/scenarios', () => {
  const servers: ShiftServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('plays a scenario from now and says so on the stream', async () => {
    const server = await startServer();
    servers.push(server);
    const s = await openStream(server);
    try {
      await s.waitFor((e) => e.event === 'hello', 'hello');
      const started = await post(server, '/api/admin/scenarios', {
        name: 'Now',
        steps: [
          {
            at: 0,
            create_shift: {
              id: 3001,
              date: '2026-12-01',
              start_time: '22:00',
              end_time: '07:00',
              offer_to: [101],
            },
          },
          { at: '0s', fault: { drop_rate: 0.25 } },
        ],
      });
      expect(started.status).toBe(200);
      expect(started.body).toEqual({ name: 'Now', steps: 2, last_step_in_s: 0 });
      const step = await s.waitFor(
        (e) => e.event === 'scenario' && (e.data as { step: number }).step === 2,
        'the second step',
      );
      expect(step.data).toMatchObject({ name: 'Now', did: expect.stringContaining('faults') });
      expect((await get(server, '/api/admin/shifts/3001')).status).toBe(200);
      expect((await get(server, '/api/admin/faults')).body.drop_rate).toBe(0.25);

      const bad = await post(server, '/api/admin/scenarios', { name: 'x', steps: [{ at: 0 }] });
      expect([bad.status, bad.body.code]).toEqual([400, 'E_INVALID_BODY']);
      // The refusal names the field, not zod's "Invalid input" for the union of step kinds.
      expect(bad.body.message).toBe(
        'Invalid request body: steps.0: needs one of create_shift, offer, withdraw, kick, fault',
      );
      const two = await post(server, '/api/admin/scenarios', {
        name: 'x',
        steps: [
          { at: 0, withdraw: 1, kick: 2 },
          { at: 1, offer: { shift_id: 1 } },
        ],
      });
      expect(two.body.details.issues).toEqual([
        {
          path: 'steps.0',
          message: 'withdraw and kick cannot be given together: give one of them',
        },
        { path: 'steps.1.offer.emp_ids', message: 'is required' },
      ]);
    } finally {
      s.close();
    }
  });
});

describe.skipIf(!postgresUrl)(
  'the event stream across instances (set SHIFTCTL_TEST_POSTGRES to run)',
  () => {
    const schemas = testSchemas();
    const servers: ShiftServer[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()));
      await schemas.dropAll();
    });

    it('carries the lines another instance writes to the shared journal', async () => {
      const url = new URL(postgresUrl as string);
      url.searchParams.set('schema', schemas.name());
      for (let i = 0; i < 2; i++) {
        servers.push(await startServer({ db: url.href, dbPool: 2, drainSeconds: 0 }));
      }
      const [a, b] = servers as [ShiftServer, ShiftServer];
      const s = await openStream(a);
      try {
        await s.waitFor((e) => e.event === 'hello', 'hello');
        expect((await post(b, '/api/test/send_offer/101?shift_id=7')).status).toBe(200);
        await s.line(
          (l) => l.name === 'POST /api/test/send_offer/{emp_id}' && l.emp_id === 101,
          "instance B's request line, on A's stream",
        );
      } finally {
        s.close();
      }
    });
  },
);
