/**
 * Push fallback through the real server: push tokens over HTTP, and offers that found no device
 * POSTed to a local webhook receiver after `push-after`, signed, retried, cancelled, once.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth/token.js';
import type { OfferEvent } from '../src/offers/ports.js';
import { verifyPush } from '../src/push/signature.js';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { type Logger, silentLogger } from '../src/server/log.js';
import {
  connect,
  DEFAULT_WAIT_MS,
  get,
  http,
  manualClock,
  post,
  respond,
  startServer,
  type TestClient,
  withTimeout,
} from './helpers.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

const TOKEN = 'fcm-token-AAAA:APA91b-0123456789';
const IOS_TOKEN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A webhook on port 0 that records every push and answers from a script (then 200). */
async function receiver(script: Array<number | 'hang'> = []) {
  const received: Received[] = [];
  let waiters: Array<() => void> = [];
  const server = createHttpServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      const wake = waiters;
      waiters = [];
      for (const w of wake) w();
      const answer = script.shift() ?? 200;
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end(answer === 200 ? '{"name":"projects/p/messages/1"}' : '{"error":"try later"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  return {
    url,
    received,
    /** Waits until `n` pushes have come. */
    async count(n: number): Promise<Received[]> {
      await withTimeout(
        new Promise<void>((resolve) => {
          const check = () => (received.length >= n ? resolve() : waiters.push(check));
          check();
        }),
        DEFAULT_WAIT_MS,
        `${n} pushes at the webhook (got ${received.length})`,
      );
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A logger that keeps the rules' events, so a test can wait for one. */
function eventLog() {
  const events: OfferEvent[] = [];
  let waiters: Array<() => void> = [];
  const log: Logger = {
    ...silentLogger,
    event(e) {
      events.push(e);
      const wake = waiters;
      waiters = [];
      for (const w of wake) w();
    },
  };
  return {
    log,
    events,
    /** Waits for the `n`th event matching `match`. */
    next(match: (e: OfferEvent) => boolean, what: string, n = 1): Promise<OfferEvent> {
      return withTimeout(
        new Promise<OfferEvent>((resolve) => {
          const check = () => {
            const found = events.filter(match);
            if (found.length >= n) resolve(found[n - 1] as OfferEvent);
            else waiters.push(check);
          };
          check();
        }),
        DEFAULT_WAIT_MS,
        what,
      );
    },
  };
}

const opened: Array<{ close(): Promise<void> }> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of opened.splice(0).reverse()) await c.close();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function serverWith(options: ServerOptions): Promise<ShiftServer> {
  const server = await startServer(options);
  opened.push(server);
  return server;
}

async function hook(script?: Array<number | 'hang'>) {
  const r = await receiver(script);
  opened.push(r);
  return r;
}

/** Registers a token for `empId` and offers them `shiftId`: pending, as no device is connected. */
async function offerTo(server: ShiftServer, empId: number, shiftId: number, platform = 'android') {
  await post(server, `/api/devices/${empId}`, { token: TOKEN, platform });
  return post(server, `/api/test/send_offer/${empId}?shift_id=${shiftId}`);
}

function journalOf(server: ShiftServer, shiftId: number) {
  return get(server, `/api/admin/journal?kind=push&shift_id=${shiftId}`).then((r) =>
    (r.body as any[]).filter((e) => e.name === 'push_notification'),
  );
}

describe('push fallback', () => {
  it('POSTs an FCM-shaped message to each token once push-after has passed with no device', async () => {
    const webhook = await hook();
    const server = await serverWith({ pushWebhook: webhook.url, pushAfterMs: 50 });
    await post(server, '/api/devices/123', { token: TOKEN, platform: 'android' });
    await post(server, '/api/devices/123', { token: IOS_TOKEN, platform: 'ios' });
    const sentAt = Date.now();
    const offer = await post(server, '/api/test/send_offer/123?shift_id=456&ttl_seconds=600', {
      location_name: 'Maple Grove Care Home',
    });
    expect(offer.body).toMatchObject({ status: 'pending', devices: 0 });
    const [a, b] = await webhook.count(2);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(50);
    const byToken = new Map([a, b].map((r) => [r?.body.message.token, r]));
    const android = byToken.get(TOKEN) as Received;
    const expiresAt = (await get(server, '/api/shift_offers/pending/123')).body[0].expires_at;
    expect(android.body).toEqual({
      message: {
        token: TOKEN,
        notification: {
          title: 'New shift offer: Home Care shift 456',
          body: 'Tue 20 Jan 2026, 09:00-17:00 (8 h) at Maple Grove Care Home',
        },
        data: {
          emp_id: '123',
          type: 'shift_offer',
          shift_id: '456',
          date: '2026-01-20',
          start_time: '09:00',
          end_time: '17:00',
          location_name: 'Maple Grove Care Home',
          client_name: 'Test Client',
          service_type: 'Home Care',
          description: 'Test shift offer from backend',
          expires_at: expiresAt,
        },
        android: {
          priority: 'high',
          collapse_key: 'shift_456',
          ttl: expect.stringMatching(/^(5\d\d|600)s$/),
        },
      },
    });
    expect(android.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(android.headers['x-shiftctl-attempt']).toBe('1');
    expect(android.headers['x-shiftctl-push-id']).toMatch(/^456-123-[0-9a-f]{16}$/);
    // Unsigned without a secret.
    expect(android.headers['x-shiftctl-signature']).toBeUndefined();
    const ios = byToken.get(IOS_TOKEN) as Received;
    expect(ios.body.message.apns).toEqual({
      headers: {
        'apns-priority': '10',
        'apns-push-type': 'alert',
        'apns-collapse-id': 'shift_456',
        'apns-expiration': String(Math.ceil(Date.parse(expiresAt) / 1000)),
      },
      payload: { aps: { sound: 'default', 'thread-id': 'shift_456' } },
    });
    expect(ios.body.message.android).toBeUndefined();
    const journal = await journalOf(server, 456);
    expect(
      journal.map((e) => [e.emp_id, e.outcome, e.detail.status, e.detail.attempt]).sort(),
    ).toEqual([
      [123, 'sent', 200, 1],
      [123, 'sent', 200, 1],
    ]);
    expect(JSON.stringify(journal)).not.toContain(TOKEN);
  });

  it('signs each push with HMAC-SHA256 over the timestamp and the raw body', async () => {
    const webhook = await hook();
    const server = await serverWith({
      pushWebhook: webhook.url,
      pushAfterMs: 10,
      pushSecret: 'whsec-test',
    });
    await offerTo(server, 123, 457);
    const [push] = await webhook.count(1);
    const { raw, headers } = push as Received;
    const timestamp = headers['x-shiftctl-timestamp'] as string;
    const expected = createHmac('sha256', 'whsec-test').update(`${timestamp}.${raw}`).digest('hex');
    expect(headers['x-shiftctl-signature']).toBe(`sha256=${expected}`);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    const sig = { signature: headers['x-shiftctl-signature'] as string, timestamp };
    expect(verifyPush('whsec-test', sig, raw, Date.now())).toEqual({ ok: true });
    expect(verifyPush('other', sig, raw, Date.now())).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyPush('whsec-test', sig, raw.replace('457', '458'), Date.now())).toMatchObject({
      ok: false,
    });
    // Replayed ten minutes later: refused.
    expect(verifyPush('whsec-test', sig, raw, Date.now() + 600_000)).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it('signs with the first --secret when no push secret is given', async () => {
    const webhook = await hook();
    const server = await serverWith({
      pushWebhook: webhook.url,
      pushAfterMs: 10,
      secret: ['new-secret', 'old-secret'],
    });
    const admin = await signToken({ role: 'admin' }, 'new-secret', 600);
    const auth = {
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    };
    await http(server, 'POST', '/api/devices/123', { token: TOKEN, platform: 'ios' }, auth);
    await http(server, 'POST', '/api/test/send_offer/123?shift_id=459', undefined, auth);
    const [push] = await webhook.count(1);
    const { raw, headers } = push as Received;
    const sig = {
      signature: headers['x-shiftctl-signature'] as string,
      timestamp: headers['x-shiftctl-timestamp'] as string,
    };
    expect(verifyPush('new-secret', sig, raw, Date.now())).toEqual({ ok: true });
  });

  it('retries a push the webhook failed (500, 429, 503), with backoff, and journals each attempt', async () => {
    const webhook = await hook([500, 429, 503]);
    const events = eventLog();
    const server = await serverWith({
      pushWebhook: webhook.url,
      pushAfterMs: 10,
      pushRetry: { attempts: 5, firstMs: 20, maxMs: 1000 },
      log: events.log,
    });
    await offerTo(server, 123, 460);
    const pushes = await webhook.count(4);
    await events.next(
      (e) => e.event === 'push_notification' && e.outcome === 'sent',
      'the push sent',
    );
    expect(pushes.map((p) => p.headers['x-shiftctl-attempt'])).toEqual(['1', '2', '3', '4']);
    // The same push every time: one id, one body.
    expect(new Set(pushes.map((p) => p.headers['x-shiftctl-push-id'])).size).toBe(1);
    expect(new Set(pushes.map((p) => p.raw)).size).toBe(1);
    const journal = await journalOf(server, 460);
    expect(journal.map((e) => [e.outcome, e.detail.status, e.detail.attempt])).toEqual([
      ['retry', 500, 1],
      ['retry', 429, 2],
      ['retry', 503, 3],
      ['sent', 200, 4],
    ]);
    expect(journal[0].detail).toMatchObject({
      platform: 'android',
      token: '…23456789',
      error: '{"error":"try later"}',
      next_attempt_at: expect.any(String),
    });
    // Waits doubled: 20, 40, 80 ms at least between attempts.
    const times = journal.map((e) => Date.parse(e.time));
    for (const [i, wait] of [20, 40, 80].entries()) {
      expect((times[i + 1] ?? 0) - (times[i] ?? 0)).toBeGreaterThanOrEqual(wait - 2);
    }
  });

  it('gives up after the last attempt, and at once on a 4xx other than 429', async () => {
    const webhook = await hook([400]);
    const server = await serverWith({
      pushWebhook: webhook.url,
      pushAfterMs: 10,
      pushRetry: { attempts: 2, firstMs: 10, maxMs: 10 },
    });
    await offerTo(server, 123, 461);
    await webhook.count(1);
    // A port nobody listens on any more: a network error, retried once, then given up.
    const gone = await receiver();
    await gone.close();
    const events = eventLog();
    const dead = await serverWith({
      pushWebhook: gone.url,
      pushAfterMs: 10,
      pushRetry: { attempts: 2, firstMs: 10, maxMs: 10 },
      log: events.log,
    });
    await offerTo(dead, 124, 462);
    await events.next(
      (e) => e.event === 'push_notification' && e.outcome === 'failed',
      'giving up',
    );
    expect(
      (await journalOf(dead, 462)).map((e) => [e.outcome, e.detail.status, e.detail.attempt]),
    ).toEqual([
      ['retry', null, 1],
      ['failed', null, 2],
    ]);
    expect((await journalOf(dead, 462))[0].detail.error).toMatch(/fetch failed|ECONNREFUSED/);
    const refused = await journalOf(server, 461);
    expect(refused.map((e) => [e.outcome, e.detail.status, e.detail.attempt])).toEqual([
      ['failed', 400, 1],
    ]);
    expect(webhook.received).toHaveLength(1);
  });

  it('retries an attempt the webhook does not answer within the timeout', async () => {
    const webhook = await hook(['hang']);
    const events = eventLog();
    const server = await serverWith({
      pushWebhook: webhook.url,
      pushAfterMs: 10,
      pushTimeoutMs: 100,
      pushRetry: { attempts: 3, firstMs: 10, maxMs: 10 },
      log: events.log,
    });
    await offerTo(server, 123, 463);
    await webhook.count(2);
    await events.next((e) => e.event === 'push_notification' && e.outcome === 'sent', 'the retry');
    const journal = await journalOf(server, 463);
    expect(journal.map((e) => [e.outcome, e.detail.status, e.detail.error])).toEqual([
      ['retry', null, 'no answer within 100 ms'],
      ['sent', 200, undefined],
    ]);
  });

  describe('cancellation (a clock moved by hand)', () => {
    async function setUp() {
      const clock = manualClock(Date.now());
      const webhook = await hook();
      const events = eventLog();
      const server = await serverWith({
        pushWebhook: webhook.url,
        pushAfterMs: 10_000,
        clock,
        log: events.log,
      });
      await post(server, '/api/devices/123', { token: TOKEN, platform: 'android' });
      await post(server, '/api/devices/124', { token: IOS_TOKEN, platform: 'ios' });
      return { clock, webhook, events, server };
    }

    it('sends nothing when a device connects and receives the offer before push-after', async () => {
      const { clock, webhook, events, server } = await setUp();
      const offer = await post(server, '/api/test/send_offer/123?shift_id=470');
      expect(offer.body.status).toBe('pending');
      const phone: TestClient = await connect(server, 123);
      opened.push({ close: async () => phone.close() });
      await phone.offer(470);
      await withTimeout(
        (async () => {
          for (;;) {
            const shift = await get(server, '/api/admin/shifts/470');
            if (shift.body.holders[0]?.delivered_at) return;
            await new Promise((r) => setImmediate(r));
          }
        })(),
        DEFAULT_WAIT_MS,
        'the delivery mark',
      );
      clock.advance(10_000);
      const cancelled = await events.next((e) => e.event === 'push_cancelled', 'the cancellation');
      expect(cancelled).toMatchObject({ shift_id: 470, emp_id: 123, reason: 'delivered' });
      expect(webhook.received).toEqual([]);
      expect((await journalOf(server, 470)).map((e) => [e.outcome, e.detail.reason])).toEqual([
        ['cancelled', 'delivered'],
      ]);
    });

    it('sends nothing for an offer answered, withdrawn or expired before push-after; the rest go', async () => {
      const { clock, webhook, events, server } = await setUp();
      await post(server, '/api/test/send_offer/123?shift_id=471');
      await post(server, '/api/test/send_offer/124?shift_id=471');
      await post(server, '/api/test/send_offer/123?shift_id=472');
      await post(server, '/api/test/send_offer/123?shift_id=473&ttl_seconds=5');
      await post(server, '/api/test/send_offer/124?shift_id=474');
      expect((await respond(server, 123, 471, 'rejected')).status).toBe(200);
      expect((await post(server, '/api/admin/shifts/472/withdraw')).status).toBe(200);
      clock.advance(10_000);
      await events.next((e) => e.event === 'push_cancelled', 'the cancellations', 3);
      // Employee 124 still holds 471 and 474: pushed.
      const pushes = await webhook.count(2);
      expect(pushes.map((p) => p.body.message.data.shift_id).sort()).toEqual(['471', '474']);
      expect(pushes.every((p) => p.body.message.token === IOS_TOKEN)).toBe(true);
      const reasons = events.events
        .filter((e) => e.event === 'push_cancelled')
        .map((e) => [e.shift_id, e.reason]);
      expect(reasons.sort()).toEqual([
        [471, 'answered'],
        [472, 'withdrawn'],
        [473, 'expired'],
      ]);
    });

    it('pushes an offer to a token registered after it went out, push-after from the offer', async () => {
      const { clock, webhook, server } = await setUp();
      const offer = await post(server, '/api/test/send_offer/125?shift_id=476');
      expect(offer.body.status).toBe('pending');
      clock.advance(4_000);
      // The phone registers its token only now: the offer is still pushed when it falls due.
      await post(server, '/api/devices/125', { token: 'late-token-5555', platform: 'android' });
      clock.advance(6_000);
      const [push] = await webhook.count(1);
      expect(push?.body.message.token).toBe('late-token-5555');
      expect(push?.body.message.data.shift_id).toBe('476');
      expect(webhook.received).toHaveLength(1);
    });

    it('sends nothing to a token deleted before push-after', async () => {
      const { clock, webhook, events, server } = await setUp();
      await post(server, '/api/test/send_offer/123?shift_id=475');
      await http(server, 'DELETE', `/api/devices/123/${encodeURIComponent(TOKEN)}`);
      clock.advance(10_000);
      const cancelled = await events.next((e) => e.event === 'push_cancelled', 'the cancellation');
      expect(cancelled).toMatchObject({ shift_id: 475, reason: 'unregistered' });
      expect(webhook.received).toEqual([]);
    });
  });

  it('sends a push due while the server was down when it starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-push-'));
    dirs.push(dir);
    const db = join(dir, 'shiftctl.db');
    const clock = manualClock(Date.now());
    const webhook = await hook();
    const first = await startServer({ db, pushWebhook: webhook.url, pushAfterMs: 5000, clock });
    await offerTo(first, 123, 480);
    await first.close();
    clock.jump(60_000);
    const events = eventLog();
    await serverWith({ db, pushWebhook: webhook.url, clock, log: events.log });
    const [push] = await webhook.count(1);
    expect(push?.body.message.data.shift_id).toBe('480');
    await events.next((e) => e.event === 'push_notification', 'the push recorded');
  });

  it('sends a push cut short by a shutdown again on the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-push-'));
    dirs.push(dir);
    const db = join(dir, 'shiftctl.db');
    const webhook = await hook(['hang']);
    const first = await startServer({ db, pushWebhook: webhook.url, pushAfterMs: 10 });
    await offerTo(first, 123, 481);
    await webhook.count(1);
    // The attempt in flight is cut short at once, not waited for (10 s).
    const closing = Date.now();
    await first.close();
    expect(Date.now() - closing).toBeLessThan(5000);
    await serverWith({ db, pushWebhook: webhook.url });
    const pushes = await webhook.count(2);
    expect(pushes.map((p) => p.headers['x-shiftctl-attempt'])).toEqual(['1', '2']);
  });

  it('pushes a cascade step that found no device', async () => {
    const webhook = await hook();
    const server = await serverWith({ pushWebhook: webhook.url, pushAfterMs: 10 });
    await post(server, '/api/devices/123', { token: TOKEN, platform: 'android' });
    const created = await post(server, '/api/admin/shifts', {
      date: '2026-12-01',
      start_time: '22:00',
      end_time: '07:00',
      mode: 'cascade',
      step_ttl_seconds: 600,
      offer_to: [123, 124],
    });
    expect(created.body.offers).toEqual([
      { emp_id: 123, status: 'pending' },
      { emp_id: 124, status: 'queued' },
    ]);
    const [push] = await webhook.count(1);
    expect(push?.body.message.data).toMatchObject({
      shift_id: String(created.body.shift.id),
      emp_id: '123',
      start_time: '22:00',
      expires_at: expect.any(String),
    });
    expect(push?.body.message.notification.body).toBe(
      'Tue 1 Dec 2026, 22:00-07:00 (9 h, overnight)',
    );
  });

  it('schedules nothing without a webhook', async () => {
    const events = eventLog();
    const server = await serverWith({ log: events.log });
    await post(server, '/api/devices/123', { token: TOKEN, platform: 'android' });
    const offer = await post(server, '/api/test/send_offer/123?shift_id=490');
    expect(offer.body.status).toBe('pending');
    await events.next((e) => e.event === 'offer', 'the offer event');
    expect(events.events.filter((e) => e.event.startsWith('push'))).toEqual([]);
  });

  it('refuses a webhook that is not an http(s) URL', async () => {
    await expect(startServer({ pushWebhook: 'ftp://example.com/x' })).rejects.toMatchObject({
      code: 'E_USAGE',
    });
    await expect(startServer({ pushWebhook: 'not a url' })).rejects.toMatchObject({
      code: 'E_USAGE',
    });
  });
});

describe('push tokens API', () => {
  it('registers a token idempotently, lists and deletes it', async () => {
    const server = await serverWith({});
    const first = await post(server, '/api/devices/123', { token: TOKEN, platform: 'android' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      emp_id: 123,
      token: TOKEN,
      platform: 'android',
      created: true,
      registered_at: expect.any(String),
    });
    const again = await post(server, '/api/devices/123', { token: TOKEN, platform: 'android' });
    expect(again.body.created).toBe(false);
    expect((await get(server, '/api/devices/123')).body).toEqual([
      {
        emp_id: 123,
        token: TOKEN,
        platform: 'android',
        registered_at: first.body.registered_at,
        seen_at: again.body.seen_at,
      },
    ]);
    const path = `/api/devices/123/${encodeURIComponent(TOKEN)}`;
    expect((await http(server, 'DELETE', path)).body).toEqual({
      emp_id: 123,
      token: TOKEN,
      deleted: true,
    });
    expect((await http(server, 'DELETE', path)).body.deleted).toBe(false);
    expect((await get(server, '/api/devices/123')).body).toEqual([]);
  });

  it.each([
    ['no platform', { token: TOKEN }, 'platform'],
    ['an unknown platform', { token: TOKEN, platform: 'windows' }, 'platform'],
    ['no token', { platform: 'ios' }, 'token'],
    ['a short token', { token: 'short', platform: 'ios' }, 'token: must be at least 8 characters'],
    ['a token with spaces', { token: 'has a space in it', platform: 'ios' }, 'printable ASCII'],
    ['a huge token', { token: 'x'.repeat(4097), platform: 'ios' }, 'must be at most 4096'],
    ['an unknown field', { token: TOKEN, platform: 'ios', extra: 1 }, 'extra'],
    ['an array', [TOKEN], 'must be an object'],
  ])('refuses a body with %s, saying why (400)', async (_name, body, says) => {
    const server = await serverWith({});
    const res = await post(server, '/api/devices/123', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, code: 'E_INVALID_BODY' });
    expect(res.body.message).toContain(says);
    expect((await get(server, '/api/devices/123')).body).toEqual([]);
  });

  it('refuses a missing body, bad JSON and a bad employee id', async () => {
    const server = await serverWith({});
    expect((await post(server, '/api/devices/123')).body.code).toBe('E_INVALID_BODY');
    expect((await post(server, '/api/devices/123', '{"token":')).body.code).toBe('E_BAD_JSON');
    const bad = await post(server, '/api/devices/abc', { token: TOKEN, platform: 'ios' });
    expect([bad.status, bad.body.code]).toEqual([400, 'E_INVALID_PARAM']);
    expect((await http(server, 'DELETE', '/api/devices/123/short')).body.code).toBe(
      'E_INVALID_PARAM',
    );
    expect((await http(server, 'PUT', '/api/devices/123')).status).toBe(405);
  });

  it('lets an employee token act for its own employee only, and an admin for anyone', async () => {
    const server = await serverWith({ secret: 's3cret' });
    const as = async (claims: { emp_id?: number; role: 'employee' | 'admin' }) => ({
      headers: {
        authorization: `Bearer ${await signToken(claims, 's3cret', 600)}`,
        'content-type': 'application/json',
      },
    });
    const own = await as({ emp_id: 123, role: 'employee' });
    const other = await as({ emp_id: 124, role: 'employee' });
    const admin = await as({ role: 'admin' });
    const body = { token: TOKEN, platform: 'ios' };
    const path = `/api/devices/123/${encodeURIComponent(TOKEN)}`;
    const rows: Array<[string, string, unknown, RequestInit | undefined, number]> = [
      ['POST', '/api/devices/123', body, undefined, 401],
      ['POST', '/api/devices/123', body, other, 403],
      ['GET', '/api/devices/123', undefined, other, 403],
      ['DELETE', path, undefined, other, 403],
      ['POST', '/api/devices/123', body, own, 200],
      ['GET', '/api/devices/123', undefined, own, 200],
      ['GET', '/api/devices/123', undefined, admin, 200],
      ['DELETE', path, undefined, admin, 200],
      ['POST', '/api/devices/124', body, admin, 200],
    ];
    for (const [method, url, payload, init, status] of rows) {
      const res = await http(server, method, url, payload, init);
      expect([method, url, res.status]).toEqual([method, url, status]);
      if (status >= 400) expect(res.body.code).toMatch(/^E_(AUTH_REQUIRED|FORBIDDEN)$/);
    }
    // The token moved to 124 with the admin's registration.
    expect((await http(server, 'GET', '/api/devices/124', undefined, admin)).body).toHaveLength(1);
  });
});

describe.skipIf(!postgresUrl)(
  'push fallback on PostgreSQL (set SHIFTCTL_TEST_POSTGRES to run)',
  () => {
    const schemas = testSchemas();
    afterAll(() => schemas.dropAll());

    it('sends each push exactly once when two instances share the database', async () => {
      const url = new URL(postgresUrl as string);
      url.searchParams.set('schema', schemas.name());
      const webhook = await hook();
      const options: ServerOptions = {
        db: url.href,
        dbPool: 3,
        pushWebhook: webhook.url,
        pushAfterMs: 100,
        drainSeconds: 0,
      };
      const a = await serverWith(options);
      const b = await serverWith(options);
      const employees = Array.from({ length: 12 }, (_, i) => 601 + i);
      for (const e of employees) {
        await post(a, `/api/devices/${e}`, { token: `token-of-${e}-xxxxxx`, platform: 'android' });
      }
      // Offers made through both instances at once: each arms its own timer for the same time.
      await Promise.all(
        employees.map((e, i) => post(i % 2 ? a : b, `/api/test/send_offer/${e}?shift_id=7100`)),
      );
      const pushes = await webhook.count(employees.length);
      const sent = async () =>
        (await journalOf(a, 7100)).filter((e) => e.outcome === 'sent').length;
      await withTimeout(
        (async () => {
          while ((await sent()) < employees.length) await new Promise((r) => setTimeout(r, 20));
        })(),
        DEFAULT_WAIT_MS,
        'every push journalled',
      );
      const ids = pushes.map((p) => p.headers['x-shiftctl-push-id']);
      expect(new Set(ids).size).toBe(ids.length);
      expect(pushes.map((p) => Number(p.body.message.data.emp_id)).sort()).toEqual(employees);
      expect(await sent()).toBe(employees.length);
    });
  },
);
