/** The wire contract of PROTOCOL.md, as the unchanged app uses it, against a real server. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ShiftServer } from '../src/server/create-server.js';
import { connect, get, http, post, respond, startServer } from './helpers.js';

let server: ShiftServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  await server.close();
});

const TEST_OFFER = {
  type: 'shift_offer',
  shift_id: 456,
  date: '2026-01-20',
  start_time: '09:00',
  end_time: '17:00',
  location_name: 'Outreach Center',
  client_name: 'Test Client',
  service_type: 'Home Care',
  description: 'Test shift offer from backend',
};

describe('the seed test endpoint', () => {
  it('pushes the seed test offer to a connected employee, exactly as the app parses it', async () => {
    const phone = await connect(server, 123);
    const res = await post(server, '/api/test/send_offer/123?shift_id=456');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'sent', emp_id: 123, shift_id: 456, devices: 1 });
    expect(await phone.offer(456)).toEqual(TEST_OFFER);
    phone.close();
  });

  it('stores the offer as pending when the employee is offline, and lists it', async () => {
    const res = await post(server, '/api/test/send_offer/7?shift_id=456');
    expect(res.body).toEqual({ status: 'pending', emp_id: 7, shift_id: 456, devices: 0 });
    const pending = await get(server, '/api/shift_offers/pending/7');
    expect(pending.status).toBe(200);
    expect(pending.body).toEqual([TEST_OFFER]);
  });

  it('defaults shift_id to 999', async () => {
    const res = await post(server, '/api/test/send_offer/5');
    expect(res.body).toMatchObject({ status: 'pending', shift_id: 999 });
  });

  it('takes offer fields from an optional JSON body', async () => {
    await post(server, '/api/test/send_offer/5?shift_id=10', {
      date: '2026-02-01',
      location_name: 'Elm House',
      description: null,
    });
    const { body } = await get(server, '/api/shift_offers/pending/5');
    expect(body).toEqual([
      {
        ...TEST_OFFER,
        shift_id: 10,
        date: '2026-02-01',
        location_name: 'Elm House',
        description: undefined,
      },
    ]);
    expect(Object.hasOwn(body[0], 'description')).toBe(false);
  });

  it('adds an employee to a known shift, and refuses once the shift is assigned', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=20');
    await post(server, '/api/test/send_offer/2?shift_id=20');
    expect((await respond(server, 1, 20, 'accepted')).body.assigned).toBe(true);
    const refused = await post(server, '/api/test/send_offer/3?shift_id=20');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ success: false, code: 'E_SHIFT_TAKEN' });
  });

  it('keeps an offer it sent while the employee was connected pending until answered', async () => {
    const phone = await connect(server, 8);
    await post(server, '/api/test/send_offer/8?shift_id=30');
    await phone.offer(30);
    expect((await get(server, '/api/shift_offers/pending/8')).body).toHaveLength(1);
    phone.close();
  });
});

describe('pending, history and availability', () => {
  it('returns an empty JSON array for an employee with nothing pending', async () => {
    const res = await get(server, '/api/shift_offers/pending/42');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual([]);
  });

  it('removes an answered offer from pending and keeps it in history, newest first', async () => {
    await post(server, '/api/test/send_offer/9?shift_id=1');
    await post(server, '/api/test/send_offer/9?shift_id=2');
    await post(server, '/api/test/send_offer/9?shift_id=3');
    await respond(server, 9, 2, 'rejected');
    await respond(server, 9, 3, 'accepted');
    const pending = await get(server, '/api/shift_offers/pending/9');
    expect(pending.body.map((o: { shift_id: number }) => o.shift_id)).toEqual([1]);
    const history = await get(server, '/api/shift_offers/history/9');
    expect(history.status).toBe(200);
    expect(history.body.map((o: { shift_id: number }) => o.shift_id)).toEqual([3, 2, 1]);
    expect(history.body[0]).toMatchObject({
      type: 'shift_offer',
      shift_id: 3,
      date: '2026-01-20',
      response: 'accepted',
      outcome: 'assigned',
    });
    expect(history.body[1]).toMatchObject({ response: 'rejected', outcome: 'rejected' });
    expect(history.body[2]).toMatchObject({ response: null, outcome: 'open', answered_at: null });
  });

  it('honours the history limit', async () => {
    for (const shift of [1, 2, 3]) await post(server, `/api/test/send_offer/9?shift_id=${shift}`);
    const history = await get(server, '/api/shift_offers/history/9?limit=2');
    expect(history.body.map((o: { shift_id: number }) => o.shift_id)).toEqual([3, 2]);
  });

  it('reports availability until the shift is assigned', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=77');
    const before = await get(server, '/api/shift_offer/77/available');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ available: true, shift_id: 77, status: 'open' });
    await respond(server, 1, 77, 'accepted');
    const after = await get(server, '/api/shift_offer/77/available');
    expect(after.body).toEqual({ available: false, shift_id: 77, status: 'assigned' });
  });

  it('answers 404 with a code for the availability of an unknown shift', async () => {
    const res = await get(server, '/api/shift_offer/12345/available');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, code: 'E_SHIFT_NOT_FOUND' });
  });
});

describe('respond', () => {
  it('answers with the documented success body', async () => {
    await post(server, '/api/test/send_offer/123?shift_id=456');
    const res = await respond(server, 123, 456, 'accepted');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      assigned: true,
      message: 'Shift successfully assigned',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      shift_id: 456,
      emp_id: 123,
      outcome: 'assigned',
    });
  });

  it('accepts the body without the optional timestamp', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=5');
    const res = await post(server, '/api/shift_offer/respond', {
      emp_id: 1,
      shift_id: 5,
      response: 'rejected',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, assigned: false, outcome: 'rejected' });
  });

  it('pushes offer_result assigned to every device of the winner', async () => {
    const phone = await connect(server, 123);
    const tablet = await connect(server, 123);
    await post(server, '/api/test/send_offer/123?shift_id=456');
    await Promise.all([phone.offer(456), tablet.offer(456)]);
    await respond(server, 123, 456, 'accepted');
    const expected = { type: 'offer_result', shift_id: 456, status: 'assigned' };
    expect(await phone.result(456)).toEqual(expected);
    expect(await tablet.result(456)).toEqual(expected);
    phone.close();
    tablet.close();
  });

  it('tells the other holders the shift was taken and drops it from their pending list', async () => {
    const rival = await connect(server, 2);
    await post(server, '/api/test/send_offer/1?shift_id=60');
    await post(server, '/api/test/send_offer/2?shift_id=60');
    await rival.offer(60);
    await respond(server, 1, 60, 'accepted');
    expect(await rival.result(60)).toEqual({ type: 'offer_result', shift_id: 60, status: 'taken' });
    expect((await get(server, '/api/shift_offers/pending/2')).body).toEqual([]);
    const late = await respond(server, 2, 60, 'accepted');
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({
      success: true,
      assigned: false,
      outcome: 'taken',
      message: 'Shift was already taken by another employee',
    });
    rival.close();
  });
});

describe('debug and docs endpoints', () => {
  it('lists connected employees and pending counts', async () => {
    const phone = await connect(server, 3);
    await post(server, '/api/test/send_offer/4?shift_id=1');
    await post(server, '/api/test/send_offer/4?shift_id=2');
    const res = await get(server, '/api/connections');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      active_connections: [3],
      total: 1,
      sockets: 1,
      employees: [
        { emp_id: 3, connected: true, devices: 1, pending: 0 },
        { emp_id: 4, connected: false, devices: 0, pending: 2 },
      ],
      refused_requests: {},
    });
    phone.close();
  });

  it('describes the service and its endpoints at /', async () => {
    const res = await get(server, '/');
    expect(res.status).toBe(200);
    expect(res.body.websocket).toBe('/ws/{emp_id}');
    const paths = res.body.endpoints.map(
      (e: { method: string; path: string }) => `${e.method} ${e.path}`,
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        'POST /api/shift_offer/respond',
        'GET /api/shift_offers/pending/{emp_id}',
        'GET /api/shift_offers/history/{emp_id}',
        'GET /api/shift_offer/{shift_id}/available',
        'POST /api/test/send_offer/{emp_id}',
        'GET /api/connections',
      ]),
    );
  });

  it('answers the health check', async () => {
    const res = await get(server, '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', connections: 0 });
  });

  it('serves an OpenAPI document that describes every route with its schemas', async () => {
    const res = await get(server, '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const respondOp = res.body.paths['/api/shift_offer/respond'].post;
    expect(respondOp.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/RespondRequest',
    });
    const schema = res.body.components.schemas.RespondRequest;
    expect(schema.required).toEqual(['emp_id', 'shift_id', 'response']);
    expect(schema.properties.response.enum).toEqual(['accepted', 'rejected']);
    expect(schema.properties.emp_id.type).toBe('integer');
    // Every answer the route can give, including those of auth, limits and body reading.
    expect(Object.keys(respondOp.responses)).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '410',
      '413',
      '415',
      '429',
      '500',
      '503',
      'default',
    ]);
    expect(respondOp.responses['503'].description).toBe(
      'Error: E_STORAGE_FULL, E_DATABASE_BUSY, E_UNAVAILABLE',
    );
    expect(respondOp.responses['410'].description).toBe(
      'Error: E_OFFER_EXPIRED, E_OFFER_WITHDRAWN',
    );
    const pending = res.body.paths['/api/shift_offers/pending/{emp_id}'].get;
    expect(pending.parameters[0]).toMatchObject({ name: 'emp_id', in: 'path', required: true });
    expect(res.body.components.schemas.PendingOffers.type).toBe('array');
  });

  it('serves readable API docs at /docs with their assets', async () => {
    const page = await http(server, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.body).toContain('/openapi.json');
    const script = await fetch(`${server.url}/docs/assets/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    await script.arrayBuffer();
  });

  it('allows cross-origin calls by default', async () => {
    const preflight = await http(server, 'OPTIONS', '/api/shift_offer/respond', undefined, {
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);
  });
});
