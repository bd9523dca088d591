/** The WebSocket side: replay on connect, several devices, heartbeats, bad frames, bad upgrades. */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { ShiftServer } from '../src/server/create-server.js';
import { textFrame } from '../src/server/hub.js';
import { connect, get, post, respond, startServer, TestClient, upgrade } from './helpers.js';

let server: ShiftServer;
const clients: TestClient[] = [];
async function client(empId: number | string): Promise<TestClient> {
  const c = await connect(server, empId);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

describe('delivery', () => {
  it('replays every open offer on connect, and again on every reconnect', async () => {
    server = await startServer();
    await post(server, '/api/test/send_offer/7?shift_id=1');
    await post(server, '/api/test/send_offer/7?shift_id=2');
    const first = await client(7);
    await first.offer(1);
    await first.offer(2);
    first.close();
    await first.waitClose();
    const again = await client(7);
    expect((await again.offer(1)).shift_id).toBe(1);
    expect((await again.offer(2)).shift_id).toBe(2);
  });

  it('sends every message to each device of an employee', async () => {
    server = await startServer();
    const devices = await Promise.all([client(5), client(5), client(5)]);
    const sent = await post(server, '/api/test/send_offer/5?shift_id=11');
    expect(sent.body).toMatchObject({ status: 'sent', devices: 3 });
    for (const d of devices) expect((await d.offer(11)).shift_id).toBe(11);
  });

  it('tells every device of an employee the outcome of an answer, whichever device gave it', async () => {
    server = await startServer();
    const phone = await client(5);
    const tablet = await client(5);
    await post(server, '/api/test/send_offer/5?shift_id=21');
    await post(server, '/api/test/send_offer/5?shift_id=22');
    await post(server, '/api/admin/shifts', {
      id: 23,
      date: '2026-03-01',
      start_time: '08:00',
      end_time: '16:00',
      approval: true,
      offer_to: [5],
    });
    await respond(server, 5, 21, 'rejected');
    await respond(server, 5, 22, 'accepted');
    await respond(server, 5, 23, 'accepted');
    for (const device of [phone, tablet]) {
      expect(await device.result(21)).toEqual({
        type: 'offer_result',
        shift_id: 21,
        status: 'rejected',
      });
      expect(await device.result(22)).toEqual({
        type: 'offer_result',
        shift_id: 22,
        status: 'assigned',
      });
      expect(await device.result(23)).toEqual({
        type: 'offer_result',
        shift_id: 23,
        status: 'requested',
      });
    }
  });

  it('does not replay answered offers or shifts taken by someone else', async () => {
    server = await startServer();
    await post(server, '/api/test/send_offer/1?shift_id=1');
    await post(server, '/api/test/send_offer/2?shift_id=1');
    await post(server, '/api/test/send_offer/2?shift_id=2');
    await post(server, '/api/shift_offer/respond', {
      emp_id: 1,
      shift_id: 1,
      response: 'accepted',
    });
    const c = await client(2);
    await c.offer(2);
    const { body } = await get(server, '/api/shift_offers/pending/2');
    expect(body.map((o: { shift_id: number }) => o.shift_id)).toEqual([2]);
    expect(c.messages.filter((m) => m.type === 'shift_offer').map((m) => m.shift_id)).toEqual([2]);
  });

  it('records when an offer was delivered', async () => {
    server = await startServer();
    await post(server, '/api/test/send_offer/3?shift_id=1');
    let history = await get(server, '/api/shift_offers/history/3');
    expect(history.body[0].delivered_at).toBeNull();
    const c = await client(3);
    await c.offer(1);
    // the replay marks delivery in a batch after the send; the next request sees it
    await new Promise((r) => setImmediate(r));
    history = await get(server, '/api/shift_offers/history/3');
    expect(history.body[0].delivered_at).toMatch(/^\d{4}-/);
  });
});

describe('liveness', () => {
  it('sends {"type":"ping"} and ping frames, and keeps a client that answers', async () => {
    server = await startServer({ heartbeatSeconds: 0.05 });
    const c = await client(1);
    let frames = 0;
    c.ws.on('ping', () => frames++);
    // The app answers each JSON ping with a JSON pong; `ws` answers ping frames by itself.
    c.ws.on('message', (data) => {
      if (JSON.parse(data.toString()).type === 'ping') c.send({ type: 'pong' });
    });
    await c.next((m) => m.type === 'ping');
    const pings = () => c.messages.filter((m) => m.type === 'ping').length;
    await c.next(() => pings() >= 4, 5000, 'four pings');
    expect(frames).toBeGreaterThanOrEqual(3);
    expect(c.closed).toBeUndefined();
  });

  it('terminates a connection that stops answering', async () => {
    server = await startServer({ heartbeatSeconds: 0.05 });
    // autoPong off: this client neither answers ping frames nor sends pongs.
    const silent = new TestClient(`${server.wsUrl}/1`);
    (silent.ws as unknown as { _autoPong: boolean })._autoPong = false;
    await silent.opened();
    clients.push(silent);
    const closed = await silent.waitClose();
    expect(closed.code).toBe(1006);
    const { body } = await get(server, '/api/connections');
    expect(body.active_connections).toEqual([]);
  });
});

describe('frames from clients', () => {
  it('answers malformed and unknown frames with an error message and keeps serving', async () => {
    server = await startServer();
    const c = await client(1);
    c.send('not json');
    expect(await c.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      code: 'E_BAD_JSON',
      message: 'The frame is not valid JSON.',
    });
    c.send({ type: 'shift_offer', shift_id: 1 });
    const unknown = await c.next((m) => m.code === 'E_UNKNOWN_TYPE');
    expect(unknown.message).toContain('"shift_offer"');
    c.send('null');
    await c.next((m) => m.code === 'E_UNKNOWN_TYPE' && m.message.includes('null'));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.next((m) => m.code === 'E_BAD_FRAME');
    c.send({ type: 'pong' });
    await post(server, '/api/test/send_offer/1?shift_id=5');
    await c.offer(5);
    expect(c.closed).toBeUndefined();
  });

  it('closes with 1009 a socket that sends an oversized frame, and serves others', async () => {
    server = await startServer({ maxFrameBytes: 1024 });
    const big = await client(1);
    const other = await client(2);
    big.send({ type: 'pong', pad: 'x'.repeat(2048) });
    expect((await big.waitClose()).code).toBe(1009);
    await post(server, '/api/test/send_offer/2?shift_id=5');
    await other.offer(5);
  });

  it('drops a client that never reads instead of buffering without bound', async () => {
    server = await startServer({ maxBufferedBytes: 64 * 1024 });
    const reader = await client(2);
    const stalled = await client(1);
    // Stop reading at the TCP level: the server's send buffer for this socket can only grow.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const text = 'x'.repeat(500);
    const body = { location_name: text, client_name: text, service_type: text, description: text };
    let dropped = false;
    let sent = 0;
    // The kernel's socket buffers absorb a few MB before the server's own buffer starts to grow.
    while (!dropped && sent < 20_000) {
      const batch = Array.from({ length: 50 }, () => ++sent);
      await Promise.all(
        batch.map((s) => post(server, `/api/test/send_offer/1?shift_id=${s}`, body)),
      );
      const { body: conns } = await get(server, '/api/connections');
      dropped = !conns.active_connections.includes(1);
    }
    expect(dropped).toBe(true);
    await post(server, '/api/test/send_offer/2?shift_id=1');
    await reader.offer(1);
    // Nothing was lost: the stalled employee's offers are all still pending.
    const pending = await get(server, '/api/shift_offers/pending/1');
    expect(pending.body.length).toBeGreaterThan(10);
  });
});

describe('upgrades', () => {
  it.each([
    ['/ws/abc', 400, 'E_INVALID_PARAM'],
    ['/ws/0', 400, 'E_INVALID_PARAM'],
    ['/ws/', 400, 'E_INVALID_PARAM'],
    ['/ws/12/extra', 404, 'E_NOT_FOUND'],
    ['/socket', 404, 'E_NOT_FOUND'],
  ])('refuses %s with HTTP %i before the WebSocket opens', async (path, status, code) => {
    server = await startServer();
    const res = await upgrade(server, path);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ success: false, code });
  });

  it.each([
    ['a POST', { method: 'POST' }, 405, 'E_METHOD_NOT_ALLOWED'],
    ['no key', { headers: { 'sec-websocket-key': undefined } }, 400, 'E_BAD_REQUEST'],
    ['a short key', { headers: { 'sec-websocket-key': 'c2hvcnQ=' } }, 400, 'E_BAD_REQUEST'],
    ['version 12', { headers: { 'sec-websocket-version': '12' } }, 400, 'E_BAD_REQUEST'],
    ['two protocols', { headers: { upgrade: 'websocket, h2c' } }, 400, 'E_BAD_REQUEST'],
    [
      'a bad subprotocol list',
      { headers: { 'sec-websocket-protocol': 'a b' } },
      400,
      'E_BAD_REQUEST',
    ],
  ])(
    'refuses a handshake with %s in JSON, like every other error',
    async (_, change, status, code) => {
      server = await startServer();
      const res = await upgrade(server, '/ws/12', change);
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ success: false, code });
    },
  );

  it('serves a request that asks to upgrade to HTTP/2 (h2c) as plain HTTP/1.1, body and all', async () => {
    server = await startServer();
    const h2c = {
      connection: 'Upgrade, HTTP2-Settings',
      upgrade: 'h2c',
      'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA',
      'sec-websocket-key': undefined,
      'sec-websocket-version': undefined,
    };
    expect(await upgrade(server, '/healthz', { headers: h2c })).toMatchObject({
      status: 200,
      body: { status: 'ok' },
    });
    await post(server, '/api/test/send_offer/8?shift_id=81');
    const answer = await upgrade(server, '/api/shift_offer/respond', {
      method: 'POST',
      headers: { ...h2c, 'content-type': 'application/json' },
      body: JSON.stringify({ emp_id: 8, shift_id: 81, response: 'accepted' }),
    });
    expect(answer).toMatchObject({ status: 200, body: { success: true, assigned: true } });
    const missing = await upgrade(server, '/api/shift_offer/respond', {
      method: 'POST',
      headers: { ...h2c, 'content-type': 'application/json' },
      body: JSON.stringify({ emp_id: 8, shift_id: 82, response: 'accepted' }),
    });
    expect(missing).toMatchObject({ status: 404, body: { code: 'E_OFFER_NOT_FOUND' } });
  });

  it('accepts a query string and a trailing slash, as apps with tokens send', async () => {
    server = await startServer();
    const ws = new TestClient(`${server.wsUrl}/44/?token=abc`);
    clients.push(ws);
    await ws.opened();
    expect(ws.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes every socket with 1001 on shutdown', async () => {
    server = await startServer();
    const a = await client(1);
    const b = await client(2);
    await server.close();
    expect((await a.waitClose()).code).toBe(1001);
    expect((await b.waitClose()).code).toBe(1001);
  });
});

describe('pushes framed once for every recipient', () => {
  it('arrive as the exact text, whatever its length and characters', async () => {
    // Lengths on each side of the 7-bit, 16-bit and 64-bit length forms, with multi-byte text.
    const texts = [
      '{}',
      'é'.repeat(62),
      'x'.repeat(126),
      `${'ü'.repeat(40_000)}🙂`,
      'y'.repeat(70_000),
    ];
    const http = createHttpServer();
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    http.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send('first, from ws itself');
        for (const text of texts) socket.write(textFrame(text));
        ws.send('last, from ws itself');
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('frames did not arrive')), 5000);
      client.on('message', (data, isBinary) => {
        expect(isBinary).toBe(false);
        received.push(data.toString());
        if (received.length === texts.length + 2) {
          clearTimeout(timer);
          resolve();
        }
      });
      client.on('error', reject);
    });
    client.terminate();
    wss.close();
    await new Promise((resolve) => http.close(resolve));
    expect(received).toEqual(['first, from ws itself', ...texts, 'last, from ws itself']);
  });
});
