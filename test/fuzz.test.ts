/**
 * Fuzz-style: thousands of random and malformed paths, bodies and frames at a real server with
 * authentication on. Nothing may answer 5xx or crash it, and one employee must never see
 * another's data.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { signToken } from '../src/auth/token.js';
import { seededRandom } from '../src/bench/random.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { http, startServer, TestClient } from './helpers.js';

const SECRET = 'fuzz-secret';
const SECRET_TEXT = 'SECRET-OF-EMPLOYEE-2';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const random = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const IDS = [
  '1',
  '2',
  '0',
  '-1',
  '1.5',
  'abc',
  '99999999999999999999',
  '%00',
  '%E0%A4%A',
  '1e3',
  ' 1',
  '2;DROP TABLE offers',
  '../2',
  '',
];
const PATHS = [
  '/api/shift_offer/respond',
  '/api/shift_offers/pending/{id}',
  '/api/shift_offers/history/{id}?limit={id}',
  '/api/shift_offer/{id}/available',
  '/api/test/send_offer/{id}?shift_id={id}',
  '/api/connections',
  '/api/admin/shifts',
  '/api/admin/shifts/{id}',
  '/api/admin/shifts/{id}/offers',
  '/api/admin/shifts/{id}/withdraw',
  '/api/admin/shifts/{id}/approve/{id}',
  '/api/admin/journal?emp_id={id}&after_id={id}',
  '/api/admin/faults',
  '/api/admin/kick/{id}',
  '/api/{id}',
  '/{id}',
  '/ws/{id}',
  '/docs/assets/{id}',
];

function randomValue(depth = 0): unknown {
  const kind = Math.floor(random() * (depth > 2 ? 6 : 8));
  switch (kind) {
    case 0:
      return Math.floor(random() * 10) - 2;
    case 1:
      return random() * 1e20;
    case 2:
      return pick([
        'accepted',
        'rejected',
        'maybe',
        '',
        '2026-01-20',
        '25:99',
        'ü✓\u0000',
        'x'.repeat(600),
      ]);
    case 3:
      return random() < 0.5;
    case 4:
      return null;
    case 5:
      return pick([Number.MAX_SAFE_INTEGER + 2, -0, 1.5]);
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
    default: {
      const keys = [
        'emp_id',
        'shift_id',
        'response',
        'timestamp',
        'date',
        'start_time',
        'end_time',
        'emp_ids',
        'offer_to',
        'slots',
        'mode',
        'approval',
        'drop_rate',
        '__proto__',
        'constructor',
      ];
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 5) }, () => [
          pick(keys),
          randomValue(depth + 1),
        ]),
      );
    }
  }
}

function randomBody(): string | undefined {
  const r = random();
  if (r < 0.15) return undefined;
  if (r < 0.3) return pick(['{', '{"emp_id":', '[', '"', 'null', 'emp_id=1', '\u0000', '{"a":1}}']);
  return JSON.stringify(randomValue());
}

/**
 * GET /healthz on a connection of its own, closed after the answer. fetch would reuse a pooled
 * keep-alive socket, one the fuzzing left behind, that the server may be closing at that very
 * moment (its keep-alive timeout, or a refused request's `Connection: close`): an ECONNRESET
 * that says nothing about the server's health.
 */
function healthz(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/healthz`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

let server: ShiftServer;
const employee1 = await signToken({ emp_id: 1, role: 'employee' }, SECRET, 3600);
const admin = await signToken({ role: 'admin' }, SECRET, 3600);

beforeAll(async () => {
  server = await startServer({ secret: SECRET, answerRateLimits: false });
  await http(
    server,
    'POST',
    '/api/admin/shifts',
    {
      id: 2,
      date: '2026-03-01',
      start_time: '08:00',
      end_time: '16:00',
      description: SECRET_TEXT,
      offer_to: [2],
    },
    { headers: { authorization: `Bearer ${admin}` } },
  );
  await http(
    server,
    'POST',
    '/api/admin/shifts',
    {
      id: 1,
      date: '2026-03-01',
      start_time: '08:00',
      end_time: '16:00',
      offer_to: [1],
    },
    { headers: { authorization: `Bearer ${admin}` } },
  );
});
afterAll(async () => {
  await server.close();
});

describe(`fuzzing (seed ${SEED})`, () => {
  it('answers 3000 random requests as employee 1 with 4xx or 2xx, never leaking employee 2', async () => {
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 60; batch++) {
      const calls = Array.from({ length: 50 }, async () => {
        const path = pick(PATHS).replace(/\{id\}/g, () => pick(IDS));
        const method = pick(['GET', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
        const body = method === 'GET' ? undefined : randomBody();
        const auth = pick([
          `Bearer ${employee1}`,
          `Bearer ${employee1}x`,
          'Basic abc',
          '',
          `Bearer ${'A'.repeat(5000)}`,
        ]);
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            'content-type': pick([
              'application/json',
              'text/plain',
              'application/x-www-form-urlencoded',
            ]),
            ...(auth ? { authorization: auth } : {}),
          },
          body,
        }).catch((err: Error) => err);
        if (res instanceof Error) throw new Error(`${method} ${path} failed: ${res.message}`);
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${method} ${path} ${body ?? ''} -> ${text}`).toBeLessThan(500);
        expect(text).not.toContain(SECRET_TEXT);
        if (res.status >= 400 && res.headers.get('content-type')?.includes('json')) {
          expect(JSON.parse(text)).toMatchObject({
            success: false,
            code: expect.stringMatching(/^E_/),
          });
        }
      });
      await Promise.all(calls);
    }
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(3000);
    expect(statuses.get(403)).toBeGreaterThan(0); // employee 1 did try to reach others' data
    expect(await healthz()).toBe(200);
    // 3000 requests are CPU work for server and client alike: with other test files running
    // beside this one on a small machine, they can take longer than the default 20 s.
  }, 60_000);

  it('survives 2000 random frames, and the fuzzing client still gets its own offers only', async () => {
    const c = new TestClient(`${server.wsUrl}/1?token=${employee1}`);
    await c.opened();
    await c.offer(1);
    for (let i = 0; i < 2000; i++) {
      const r = random();
      if (r < 0.3)
        c.ws.send(
          Buffer.from(
            Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)),
          ),
          { binary: true },
        );
      else if (r < 0.6) c.ws.send(JSON.stringify(randomValue()));
      else c.ws.send(randomBody() ?? '');
    }
    c.ws.send(JSON.stringify({ type: 'pong' }));
    await c.next(
      () => c.messages.filter((m) => m.type === 'error').length >= 1000,
      10_000,
      'error replies',
    );
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(JSON.stringify(c.messages)).not.toContain(SECRET_TEXT);
    expect(c.messages.filter((m) => m.type === 'shift_offer').map((m) => m.shift_id)).toEqual([1]);
    c.close();
    expect(await healthz()).toBe(200);
  });
});
