/** First come, first served under real concurrency: one winner, everyone else told. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Fanout } from '../src/offers/ports.js';
import { createOfferService } from '../src/offers/service.js';
import type { ServerMessage } from '../src/protocol/schemas.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { connect, get, post, respond, startServer, type TestClient } from './helpers.js';

let server: ShiftServer;
let clients: TestClient[] = [];
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await server.close();
});

it('gives a shift accepted by 50 employees at once to exactly one, and tells the other 49', async () => {
  const SHIFT = 5000;
  const employees = Array.from({ length: 50 }, (_, i) => 1000 + i);
  const created = await post(server, '/api/admin/shifts', {
    id: SHIFT,
    date: '2026-03-01',
    start_time: '07:00',
    end_time: '15:00',
    location_name: 'Riverside',
    offer_to: employees,
  });
  expect(created.status).toBe(201);
  clients = await Promise.all(employees.map((id) => connect(server, id)));
  await Promise.all(clients.map((c) => c.offer(SHIFT)));

  const answers = await Promise.all(employees.map((id) => respond(server, id, SHIFT, 'accepted')));

  expect(answers.every((a) => a.status === 200)).toBe(true);
  const winners = answers.filter((a) => a.body.assigned === true);
  expect(winners).toHaveLength(1);
  const winner = winners[0]?.body.emp_id as number;
  const losers = answers.filter((a) => a.body.assigned === false);
  expect(losers).toHaveLength(49);
  for (const l of losers) {
    expect(l.body).toMatchObject({ success: true, outcome: 'taken' });
    expect(l.body.message).toMatch(/taken/);
  }

  const results = await Promise.all(clients.map((c) => c.result(SHIFT)));
  const statuses = results.map((r) => r.status);
  expect(statuses.filter((s) => s === 'assigned')).toHaveLength(1);
  expect(statuses.filter((s) => s === 'taken')).toHaveLength(49);
  expect(results[employees.indexOf(winner)]?.status).toBe('assigned');

  const shift = await get(server, `/api/admin/shifts/${SHIFT}`);
  expect(shift.body).toMatchObject({ status: 'assigned', assigned_to: [winner] });
  expect(shift.body.offers).toMatchObject({ total: 50, open: 0, accepted: 50 });
  expect((await get(server, `/api/shift_offer/${SHIFT}/available`)).body.available).toBe(false);
});

it('keeps the winner single when retries and rejections race the acceptances', async () => {
  const SHIFT = 6000;
  const employees = Array.from({ length: 20 }, (_, i) => 2000 + i);
  await post(server, '/api/admin/shifts', {
    id: SHIFT,
    date: '2026-03-02',
    start_time: '07:00',
    end_time: '15:00',
    offer_to: employees,
  });
  const calls = employees.flatMap((id, i) => {
    const response = i % 4 === 0 ? 'rejected' : 'accepted';
    return [respond(server, id, SHIFT, response), respond(server, id, SHIFT, response)];
  });
  const answers = await Promise.all(calls);
  expect(answers.every((a) => a.status === 200)).toBe(true);
  const winners = new Set(answers.filter((a) => a.body.assigned).map((a) => a.body.emp_id));
  expect(winners.size).toBe(1);
  // Each employee's two calls agree with each other.
  for (let i = 0; i < answers.length; i += 2) {
    expect(answers[i]?.body.outcome).toBe(answers[i + 1]?.body.outcome);
  }
});

it('offers one shift to every connected employee in a range with one broadcast call, durably, then one wins', async () => {
  const SHIFT = 7000;
  const inRange = [3000, 3001, 3002, 3003];
  clients = await Promise.all([...inRange, 2999, 3100].map((id) => connect(server, id)));

  const sent = await post(server, `/api/test/broadcast/3000/3099?shift_id=${SHIFT}`);

  expect(sent.status).toBe(200);
  expect(sent.body).toEqual({ status: 'sent', sent: 4, shift_id: SHIFT });
  const offers = await Promise.all(clients.slice(0, 4).map((c) => c.offer(SHIFT)));
  expect(offers.map((o) => o.shift_id)).toEqual([SHIFT, SHIFT, SHIFT, SHIFT]);
  // Stored before it was pushed: the shift and its four offers, none for those outside the range.
  const shift = await get(server, `/api/admin/shifts/${SHIFT}`);
  expect(shift.body).toMatchObject({ status: 'open', offers: { total: 4, open: 4 } });
  for (const outside of [2999, 3100]) {
    expect((await get(server, `/api/shift_offers/history/${outside}`)).body).toEqual([]);
  }

  const answers = await Promise.all(inRange.map((id) => respond(server, id, SHIFT, 'accepted')));
  expect(answers.filter((a) => a.body.assigned === true)).toHaveLength(1);
  expect(answers.filter((a) => a.body.outcome === 'taken')).toHaveLength(3);
  const results = await Promise.all(clients.slice(0, 4).map((c) => c.result(SHIFT)));
  expect(results.map((r) => r.status).sort()).toEqual(['assigned', 'taken', 'taken', 'taken']);
  // The shift is gone: a second broadcast of it is refused.
  const again = await post(server, `/api/test/broadcast/3000/3099?shift_id=${SHIFT}`);
  expect(again.status).toBe(409);
  expect(again.body.code).toBe('E_SHIFT_TAKEN');
});

it('adds the employees connected since to a second broadcast of the same open shift', async () => {
  const SHIFT = 7100;
  clients = [await connect(server, 3200)];
  const first = await post(server, `/api/test/broadcast/3200/3299?shift_id=${SHIFT}`);
  expect(first.body).toEqual({ status: 'sent', sent: 1, shift_id: SHIFT });
  await clients[0]?.offer(SHIFT);
  clients.push(await connect(server, 3201));

  const second = await post(server, `/api/test/broadcast/3200/3299?shift_id=${SHIFT}`);

  expect(second.status).toBe(200);
  expect(second.body.shift_id).toBe(SHIFT);
  expect((await clients[1]?.offer(SHIFT))?.shift_id).toBe(SHIFT);
  const shift = await get(server, `/api/admin/shifts/${SHIFT}`);
  expect(shift.body).toMatchObject({ status: 'open', offers: { total: 2, open: 2 } });
});

it('broadcasts through a fan-out that has presence() but no connectedIn()', async () => {
  const store = createSqliteStore({ path: ':memory:' });
  const pushed: Array<[number, ServerMessage]> = [];
  const connected = new Map([
    [10, 1],
    [11, 2],
    [99, 1],
  ]);
  const fanout: Fanout = {
    async publish(empIds, message) {
      for (const empId of empIds) pushed.push([empId, message]);
      return empIds.map((empId) => connected.get(empId) ?? 0);
    },
    async presence() {
      return connected;
    },
  };
  const service = createOfferService({
    store,
    fanout,
    clock: { now: () => Date.now(), schedule: () => () => {} },
    events: { event: () => {} },
  });
  try {
    expect(await service.broadcast(10, 20, 42)).toBe(2);
    expect(pushed.map(([empId, m]) => [empId, m.type, 'shift_id' in m && m.shift_id])).toEqual([
      [10, 'shift_offer', 42],
      [11, 'shift_offer', 42],
    ]);
    expect((await store.offersForShift(42)).map((o) => o.empId).sort()).toEqual([10, 11]);
  } finally {
    await store.close();
  }
});
