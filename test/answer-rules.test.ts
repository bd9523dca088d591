/** The answer rules: 404, idempotent retry, 409, and every bad input a documented 4xx. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShiftServer } from '../src/server/create-server.js';
import { get, http, post, respond, startServer } from './helpers.js';

let server: ShiftServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

describe('answer rules', () => {
  it('answers 404 to an answer for an offer that was never made', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=100');
    const never = await respond(server, 2, 100, 'accepted');
    expect(never.status).toBe(404);
    expect(never.body).toEqual({
      success: false,
      code: 'E_OFFER_NOT_FOUND',
      message: 'Shift 100 was never offered to employee 2.',
    });
    const unknown = await respond(server, 1, 4242, 'accepted');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('E_OFFER_NOT_FOUND');
  });

  it('returns the original outcome to a retried acceptance, timestamp included', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=101');
    const first = await respond(server, 1, 101, 'accepted');
    const retry = await respond(server, 1, 101, 'accepted');
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.body.assigned).toBe(true);
  });

  it('returns the original outcome to a retried rejection', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=102');
    const first = await respond(server, 1, 102, 'rejected');
    const retry = await respond(server, 1, 102, 'rejected');
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
  });

  it('keeps a loser a loser on retry', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=103');
    await post(server, '/api/test/send_offer/2?shift_id=103');
    await respond(server, 1, 103, 'accepted');
    const lost = await respond(server, 2, 103, 'accepted');
    const retry = await respond(server, 2, 103, 'accepted');
    expect(retry.body).toEqual(lost.body);
    expect(retry.body).toMatchObject({ assigned: false, outcome: 'taken' });
  });

  it('refuses to change an answer with 409', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=104');
    await respond(server, 1, 104, 'rejected');
    const change = await respond(server, 1, 104, 'accepted');
    expect(change.status).toBe(409);
    expect(change.body).toMatchObject({ success: false, code: 'E_ANSWER_CONFLICT' });
    expect(change.body.message).toMatch(/already rejected shift 104/);
    const available = await get(server, '/api/shift_offer/104/available');
    expect(available.body.available).toBe(true);
  });

  it('refuses to re-offer a shift the employee already answered', async () => {
    await post(server, '/api/test/send_offer/1?shift_id=105');
    await respond(server, 1, 105, 'rejected');
    const again = await post(server, '/api/test/send_offer/1?shift_id=105');
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('E_OFFER_ANSWERED');
  });
});

const RESPOND = '/api/shift_offer/respond';
const good = { emp_id: 1, shift_id: 100, response: 'accepted' };

describe.each([
  {
    name: 'a string emp_id',
    body: { ...good, emp_id: '1' },
    code: 'E_INVALID_BODY',
    field: 'emp_id',
  },
  {
    name: 'a fractional shift_id',
    body: { ...good, shift_id: 1.5 },
    code: 'E_INVALID_BODY',
    field: 'shift_id',
  },
  { name: 'a zero emp_id', body: { ...good, emp_id: 0 }, code: 'E_INVALID_BODY', field: 'emp_id' },
  {
    name: 'a negative shift_id',
    body: { ...good, shift_id: -3 },
    code: 'E_INVALID_BODY',
    field: 'shift_id',
  },
  {
    name: 'an unsafe integer',
    body: { ...good, emp_id: 2 ** 60 },
    code: 'E_INVALID_BODY',
    field: 'emp_id',
  },
  {
    name: 'an unknown response',
    body: { ...good, response: 'maybe' },
    code: 'E_INVALID_BODY',
    field: 'response',
  },
  {
    name: 'a missing response',
    body: { emp_id: 1, shift_id: 100 },
    code: 'E_INVALID_BODY',
    field: 'response',
  },
  {
    name: 'a numeric timestamp',
    body: { ...good, timestamp: 5 },
    code: 'E_INVALID_BODY',
    field: 'timestamp',
  },
  { name: 'a JSON array', body: [good], code: 'E_INVALID_BODY', field: '' },
  { name: 'JSON null', body: 'null', code: 'E_INVALID_BODY', field: '' },
  { name: 'broken JSON', body: '{"emp_id": 1,', code: 'E_BAD_JSON', field: '' },
  { name: 'a form body', body: 'emp_id=1&shift_id=2', code: 'E_BAD_JSON', field: '' },
])('respond with $name', ({ body, code, field }) => {
  it(`answers 400 ${code} and keeps serving`, async () => {
    const res = await post(server, RESPOND, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, code });
    expect(typeof res.body.message).toBe('string');
    if (field) expect(res.body.message).toContain(`${field}:`);
    expect((await get(server, '/healthz')).status).toBe(200);
  });
});

describe('what a bad request is told', () => {
  it.each([
    ['a missing answer', { emp_id: 1, shift_id: 100 }, 'response: is required'],
    [
      'an id past 2^53 - 1, once',
      { ...good, emp_id: 2 ** 53 },
      'emp_id: must be at most 9007199254740991',
    ],
    [
      'a long timestamp, in characters',
      { ...good, timestamp: 'x'.repeat(65) },
      'timestamp: must be at most 64 characters',
    ],
  ])('%s', async (_, body, message) => {
    const res = await post(server, RESPOND, body);
    expect(res.body).toMatchObject({ code: 'E_INVALID_BODY' });
    expect(res.body.message).toBe(`Invalid request body: ${message}`);
  });

  it('an employee id too large for an id says so, not that it is no positive integer', async () => {
    const res = await get(server, '/api/shift_offers/pending/99999999999999999999');
    expect(res.body).toMatchObject({
      code: 'E_INVALID_PARAM',
      message: 'Invalid path parameter: emp_id: must be at most 9007199254740991',
    });
  });

  it.each([
    ['99999999', 'must be from 1 to 2592000 seconds'],
    ['12345678901234567890', 'must be from 1 to 2592000 seconds'],
    ['1.5', 'must be a whole number of seconds'],
  ])('a test offer with ttl_seconds=%s: %s', async (ttl, message) => {
    const res = await post(server, `/api/test/send_offer/1?shift_id=9&ttl_seconds=${ttl}`);
    expect(res.body).toMatchObject({
      code: 'E_INVALID_QUERY',
      message: `Invalid query: ttl_seconds: ${message}`,
    });
  });

  it.each([
    ['/api/shift_offers/history/1?limit=1&limit=2', 'limit'],
    ['/api/admin/shifts?status=open&status=assigned', 'status'],
  ])('a query parameter given twice: %s', async (path, name) => {
    const res = await get(server, path);
    expect(res.body).toMatchObject({
      code: 'E_INVALID_QUERY',
      message: `Invalid query: ${name}: must be given once`,
    });
  });
});

describe('bad requests elsewhere', () => {
  it.each([
    ['GET', '/api/shift_offers/pending/abc', 400, 'E_INVALID_PARAM'],
    ['GET', '/api/shift_offers/pending/0', 400, 'E_INVALID_PARAM'],
    ['GET', '/api/shift_offers/pending/-1', 400, 'E_INVALID_PARAM'],
    ['GET', '/api/shift_offers/pending/1.5', 400, 'E_INVALID_PARAM'],
    ['GET', '/api/shift_offers/pending/99999999999999999999', 400, 'E_INVALID_PARAM'],
    ['GET', '/api/shift_offers/pending/%E0%A4%A', 400, 'E_BAD_REQUEST'],
    ['GET', '/api/shift_offers/history/1?limit=0', 400, 'E_INVALID_QUERY'],
    ['GET', '/api/shift_offers/history/1?limit=many', 400, 'E_INVALID_QUERY'],
    ['GET', '/api/shift_offers/history/1?limit=5000', 400, 'E_INVALID_QUERY'],
    ['GET', '/api/shift_offers/history/1?limit=1&limit=2', 400, 'E_INVALID_QUERY'],
    ['GET', '/api/shift_offer/x/available', 400, 'E_INVALID_PARAM'],
    ['POST', '/api/test/send_offer/1?shift_id=0', 400, 'E_INVALID_QUERY'],
    ['POST', '/api/test/send_offer/abc', 400, 'E_INVALID_PARAM'],
    ['GET', '/api/shift_offer/respond', 405, 'E_METHOD_NOT_ALLOWED'],
    ['DELETE', '/api/shift_offers/pending/1', 405, 'E_METHOD_NOT_ALLOWED'],
    ['GET', '/api/nothing/here', 404, 'E_NOT_FOUND'],
    ['POST', '/api/admin/shifts/9999/offers', 404, 'E_SHIFT_NOT_FOUND'],
  ])('%s %s is %i %s', async (method, path, status, code) => {
    const res = await http(
      server,
      method,
      path,
      method === 'POST' && path.includes('/admin/') ? { emp_ids: [1] } : undefined,
    );
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ success: false, code });
  });

  it('names the allowed methods on a 405', async () => {
    const res = await http(server, 'PUT', RESPOND);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('rejects test-offer overrides that are not valid shift fields', async () => {
    const badTime = await post(server, '/api/test/send_offer/1?shift_id=300', {
      start_time: '9am',
    });
    expect(badTime.status).toBe(400);
    expect(badTime.body.message).toContain('start_time: must be a 24-hour time as HH:MM');
    const badDate = await post(server, '/api/test/send_offer/1?shift_id=300', {
      date: '2026-02-30',
    });
    expect(badDate.body.message).toContain('date: is not a real calendar date');
    const unknown = await post(server, '/api/test/send_offer/1?shift_id=300', { colour: 'red' });
    expect(unknown.body.message).toContain('unknown field colour');
    // JSON can carry half a surrogate pair; stored as UTF-8 it would come back as U+FFFD.
    const broken = await post(
      server,
      '/api/test/send_offer/1?shift_id=300',
      '{"client_name":"\\ud800x"}',
    );
    expect(broken.body.message).toContain('client_name: must be valid Unicode text');
    // And U+0000, which one store would keep and the other refuse.
    const nul = await post(
      server,
      '/api/test/send_offer/1?shift_id=300',
      '{"description":"before\\u0000after"}',
    );
    expect(nul.status).toBe(400);
    expect(nul.body).toMatchObject({ code: 'E_INVALID_BODY' });
    expect(nul.body.message).toContain('description: must not contain U+0000');
    expect((await get(server, '/api/shift_offer/300/available')).status).toBe(404);
  });

  it.each([
    ['gzip', { 'content-encoding': 'gzip' }, 415],
    ['UTF-16', { 'content-type': 'application/json; charset=utf-16' }, 415],
    ['Windows-1252, quoted', { 'content-type': 'application/json; charset="windows-1252"' }, 415],
    ['ASCII', { 'content-type': 'text/plain; charset=US-ASCII' }, 404],
    ['Latin-1', { 'content-type': 'text/plain; charset=ISO-8859-1' }, 404],
    ['UTF-8 spelled in capitals', { 'content-type': 'application/json; Charset=UTF-8' }, 404],
    ['identity in capitals', { 'content-encoding': 'Identity' }, 404],
    ['text/plain', { 'content-type': 'text/plain' }, 404],
  ])('reads a JSON body sent as %s only when it is plain UTF-8', async (_, headers, status) => {
    // Never offered: 404 shows the body was read.
    const res = await http(server, 'POST', RESPOND, JSON.stringify({ ...good, shift_id: 999 }), {
      headers: { 'content-type': 'application/json', ...headers },
    });
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(status === 415 ? 'E_UNSUPPORTED_MEDIA_TYPE' : 'E_OFFER_NOT_FOUND');
  });

  it('decodes a body declared as Latin-1 as Latin-1', async () => {
    // In Latin-1, é is the single byte E9: read as UTF-8 it would be stored as U+FFFD.
    const res = await http(server, 'POST', '/api/test/send_offer/77?shift_id=770', undefined, {
      method: 'POST',
      body: Buffer.from(JSON.stringify({ client_name: 'Café Ward' }), 'latin1'),
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
    });
    expect(res.status).toBe(200);
    const [offer] = (await get(server, '/api/shift_offers/pending/77')).body;
    expect(offer.client_name).toBe('Café Ward');
  });

  it('answers 413 to an oversized body', async () => {
    const res = await post(server, RESPOND, { ...good, timestamp: 'x'.repeat(64 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('E_BODY_TOO_LARGE');
  });
});
