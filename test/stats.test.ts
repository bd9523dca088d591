/**
 * `GET /api/admin/stats` through a real server with a clock moved by hand: two shifts offered,
 * answered and withdrawn through the API and a real phone, then the figures as an operator
 * reads them, and every way the query can be wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth/token.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { connect, get, http, manualClock, post, respond, startServer } from './helpers.js';

const T0 = Date.parse('2026-01-14T15:30:00.000Z');
const SHIFT = { date: '2026-03-05', start_time: '22:00', end_time: '07:00' };

let server: ShiftServer;
beforeAll(async () => {
  const clock = manualClock(T0);
  server = await startServer({ clock });
  // Shift A at Maple Grove, to 11 (connected: delivered) and 12; 12 rejects after 30 s, 11
  // accepts after 90 s and fills it. Shift B at Elm House, to 12 at 90 s; withdrawn 10 s later.
  const phone = await connect(server, 11);
  const a = await post(server, '/api/admin/shifts', {
    ...SHIFT,
    location_name: 'Maple Grove',
    offer_to: [11, 12],
  });
  await phone.offer(a.body.shift.id);
  clock.advance(30_000);
  expect((await respond(server, 12, a.body.shift.id, 'rejected')).status).toBe(200);
  clock.advance(60_000);
  expect((await respond(server, 11, a.body.shift.id, 'accepted')).body.assigned).toBe(true);
  const b = await post(server, '/api/admin/shifts', {
    ...SHIFT,
    location_name: 'Elm House',
    offer_to: [12],
  });
  clock.advance(10_000);
  expect((await post(server, `/api/admin/shifts/${b.body.shift.id}/withdraw`)).status).toBe(200);
  phone.close();
});
afterAll(async () => {
  await server.close();
});

describe('GET /api/admin/stats', () => {
  it('counts offers and shifts and times them, in seconds', async () => {
    const res = await get(server, '/api/admin/stats');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: null,
      to: null,
      by: null,
      total: {
        offers: {
          sent: 3,
          delivered: 1,
          answered: 2,
          accepted: 1,
          rejected: 1,
          expired: 0,
          assigned: 1,
          response_rate: 0.6667,
          // 30 s and 90 s: p90 is 30 + 0.9 * 60.
          response_seconds: { median: 60, p90: 84 },
        },
        shifts: {
          offered: 2,
          filled: 1,
          unfilled: 0,
          withdrawn: 1,
          open: 0,
          fill_rate: 0.5,
          first_accept_seconds: { median: 90, p90: 90 },
          fill_seconds: { median: 90, p90: 90 },
        },
      },
      groups: [],
    });
  });

  it('groups by location and by employee, most offers sent first', async () => {
    const byLocation = await get(server, '/api/admin/stats?by=location');
    expect(byLocation.body.by).toBe('location');
    expect(byLocation.body.total.offers.sent).toBe(3);
    expect(
      byLocation.body.groups.map((g: any) => [g.key, g.offers.sent, g.shifts.fill_rate]),
    ).toEqual([
      ['Maple Grove', 2, 1],
      ['Elm House', 1, 0],
    ]);
    const byEmployee = await get(server, '/api/admin/stats?by=employee');
    expect(byEmployee.body.groups).toEqual([
      expect.objectContaining({
        key: 12,
        name: null,
        offers: expect.objectContaining({
          sent: 2,
          answered: 1,
          response_rate: 0.5,
          response_seconds: { median: 30, p90: 30 },
        }),
        shifts: null,
      }),
      expect.objectContaining({
        key: 11,
        offers: expect.objectContaining({ sent: 1, delivered: 1, accepted: 1, assigned: 1 }),
      }),
    ]);
  });

  it('counts offers by when they were sent and shifts by when they were created', async () => {
    const later = await get(server, '/api/admin/stats?from=2026-01-14T15:31:00Z');
    expect(later.body.from).toBe('2026-01-14T15:31:00.000Z');
    expect(later.body.total.offers).toMatchObject({ sent: 1, answered: 0 });
    expect(later.body.total.offers.response_rate).toBe(0);
    expect(later.body.total.shifts).toMatchObject({ offered: 1, withdrawn: 1, fill_rate: 0 });
    // A date as `to` takes in the whole of that day.
    const day = await get(server, '/api/admin/stats?from=2026-01-14&to=2026-01-14');
    expect([day.body.from, day.body.to]).toEqual([
      '2026-01-14T00:00:00.000Z',
      '2026-01-15T00:00:00.000Z',
    ]);
    expect(day.body.total.offers.sent).toBe(3);
    const none = await get(server, '/api/admin/stats?from=2026-01-15&by=client');
    expect(none.body.total.offers).toMatchObject({ sent: 0, response_rate: null });
    expect(none.body.total.offers.response_seconds).toEqual({ median: null, p90: null });
    expect(none.body.groups).toEqual([]);
  });

  it.each([
    ['from=yesterday', 'from: must be a date (YYYY-MM-DD) or a date-time with an offset'],
    ['from=2026-02-30', 'from: must be a date (YYYY-MM-DD)'],
    ['to=2026-01-14T15:31:00', 'to: must be a date (YYYY-MM-DD) or a date-time with an offset'],
    ['from=2026-01-15&to=2026-01-14', 'to: must be after from'],
    ['from=2026-01-14T16:00:00Z&to=2026-01-14T16:00:00Z', 'to: must be after from'],
    ['by=team', 'by: must be one of "location", "client", "service_type", "employee"'],
    ['by=location&by=client', 'by: must be given once'],
    ['group=location', 'unknown field group'],
  ])('refuses ?%s with 400 E_INVALID_QUERY, saying what is wrong', async (query, message) => {
    const res = await get(server, `/api/admin/stats?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, code: 'E_INVALID_QUERY' });
    expect(res.body.message).toContain(message);
  });
});

describe('GET /api/admin/stats with tokens', () => {
  it('answers an admin token and refuses an employee token with 403', async () => {
    const secret = 'stats-secret-0123456789abcdef';
    const guarded = await startServer({ secret });
    try {
      const as = async (token: string) =>
        http(guarded, 'GET', '/api/admin/stats', undefined, {
          headers: { authorization: `Bearer ${token}` },
        });
      const employee = await as(await signToken({ emp_id: 11, role: 'employee' }, secret, 60));
      expect(employee.status).toBe(403);
      expect(employee.body.code).toBe('E_FORBIDDEN');
      const admin = await as(await signToken({ role: 'admin' }, secret, 60));
      expect(admin.status).toBe(200);
      expect(admin.body.total.offers.sent).toBe(0);
    } finally {
      await guarded.close();
    }
  });
});
