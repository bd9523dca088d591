/**
 * The offer lifecycle through a real server with an injected clock: deadlines (also across a
 * restart), withdrawal, cascades, several slots, approval, the journal, reset and faults, each
 * with what a connected client sees. Nothing sleeps: the test moves the clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import {
  connect,
  get,
  manualClock,
  post,
  respond,
  startServer,
  type TestClient,
} from './helpers.js';

const MINUTE = 60_000;
let servers: ShiftServer[] = [];
let clients: TestClient[] = [];
let dirs: string[] = [];

async function server(options: ServerOptions = {}) {
  const s = await startServer(options);
  servers.push(s);
  return s;
}
async function phone(s: ShiftServer, empId: number) {
  const c = await connect(s, empId);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  servers = [];
  clients = [];
  dirs = [];
});

const SHIFT = { date: '2026-03-01', start_time: '08:00', end_time: '16:00' };

describe('expiry', () => {
  it('closes an offer at its deadline: pending drops it, holders hear, answers get 410', async () => {
    const clock = manualClock();
    const s = await server({ clock });
    const c = await phone(s, 5);
    const sent = await post(s, '/api/test/send_offer/5?shift_id=10&ttl_seconds=900');
    expect(sent.body.status).toBe('sent');
    const offer = await c.offer(10);
    expect(offer.expires_at).toBe(new Date(clock.now() + 15 * MINUTE).toISOString());
    expect((await get(s, '/api/shift_offers/pending/5')).body[0].expires_at).toBe(offer.expires_at);

    clock.advance(15 * MINUTE - 1);
    expect((await get(s, '/api/shift_offers/pending/5')).body).toHaveLength(1);
    clock.advance(1);
    expect(await c.result(10)).toEqual({ type: 'offer_result', shift_id: 10, status: 'expired' });
    expect((await get(s, '/api/shift_offers/pending/5')).body).toEqual([]);
    const late = await respond(s, 5, 10, 'accepted');
    expect(late.status).toBe(410);
    expect(late.body).toMatchObject({ success: false, code: 'E_OFFER_EXPIRED' });
    const history = await get(s, '/api/shift_offers/history/5');
    expect(history.body[0]).toMatchObject({ shift_id: 10, outcome: 'expired', response: null });
  });

  it('uses the server default deadline when an offer has none', async () => {
    const clock = manualClock();
    const s = await server({ clock, offerTtlSeconds: 60 });
    await post(s, '/api/test/send_offer/5?shift_id=11');
    clock.advance(MINUTE);
    expect((await respond(s, 5, 11, 'accepted')).status).toBe(410);
  });

  it('keeps deadlines across a restart, and closes those that passed while it was down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-expiry-'));
    dirs.push(dir);
    const db = join(dir, 'offers.db');
    const clock = manualClock();
    const first = await startServer({ db, clock });
    await post(first, '/api/admin/shifts', { ...SHIFT, id: 1, offer_to: [5], ttl_seconds: 600 });
    await post(first, '/api/admin/shifts', { ...SHIFT, id: 2, offer_to: [5], ttl_seconds: 3600 });
    await first.close();

    clock.advance(20 * MINUTE); // shift 1's deadline passes while the server is down
    const second = await server({ db, clock });
    const pending = await get(second, '/api/shift_offers/pending/5');
    expect(pending.body.map((o: { shift_id: number }) => o.shift_id)).toEqual([2]);
    expect((await respond(second, 5, 1, 'accepted')).status).toBe(410);

    const c = await phone(second, 5);
    await c.offer(2);
    clock.advance(40 * MINUTE); // shift 2's deadline, armed again at start-up
    expect(await c.result(2)).toMatchObject({ status: 'expired' });
  });
});

describe('withdrawal', () => {
  it('closes every open offer, tells the holders, and answers later answers with 410', async () => {
    const s = await server();
    const [a, b] = [await phone(s, 1), await phone(s, 2)];
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 20, offer_to: [1, 2, 3] });
    await a.offer(20);
    await b.offer(20);
    const res = await post(s, '/api/admin/shifts/20/withdraw');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'withdrawn' });
    expect(res.body.holders.map((h: { outcome: string }) => h.outcome)).toEqual([
      'withdrawn',
      'withdrawn',
      'withdrawn',
    ]);
    expect(await a.result(20)).toMatchObject({ status: 'withdrawn' });
    expect(await b.result(20)).toMatchObject({ status: 'withdrawn' });
    const late = await respond(s, 3, 20, 'accepted');
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('E_OFFER_WITHDRAWN');
    expect((await get(s, '/api/shift_offer/20/available')).body).toEqual({
      available: false,
      shift_id: 20,
      status: 'withdrawn',
    });
    const again = await post(s, '/api/admin/shifts/20/withdraw');
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('E_SHIFT_CLOSED');
    expect((await post(s, '/api/test/send_offer/4?shift_id=20')).body.code).toBe('E_SHIFT_CLOSED');
    // An assigned shift is taken, not closed: the same code as offering it again.
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 21, offer_to: [1] });
    await respond(s, 1, 21, 'accepted');
    const assigned = await post(s, '/api/admin/shifts/21/withdraw');
    expect(assigned.status).toBe(409);
    expect(assigned.body).toMatchObject({
      code: 'E_SHIFT_TAKEN',
      message: 'Shift 21 is assigned; only an open shift can be withdrawn.',
    });
  });
});

describe('cascade', () => {
  it('asks one employee at a time: a reject, an expiry, then an accept', async () => {
    const clock = manualClock();
    const s = await server({ clock });
    const [first, second, third] = [await phone(s, 1), await phone(s, 2), await phone(s, 3)];
    const created = await post(s, '/api/admin/shifts', {
      ...SHIFT,
      id: 30,
      mode: 'cascade',
      step_ttl_seconds: 300,
      offer_to: [1, 2, 3],
    });
    expect(created.body.offers).toEqual([
      { emp_id: 1, status: 'sent' },
      { emp_id: 2, status: 'queued' },
      { emp_id: 3, status: 'queued' },
    ]);
    expect((await first.offer(30)).expires_at).toBe(
      new Date(clock.now() + 5 * MINUTE).toISOString(),
    );
    expect((await get(s, '/api/shift_offers/pending/2')).body).toEqual([]);
    expect((await respond(s, 2, 30, 'accepted')).status).toBe(404); // not asked yet

    await respond(s, 1, 30, 'rejected');
    await second.offer(30);
    clock.advance(5 * MINUTE);
    expect(await second.result(30)).toMatchObject({ status: 'expired' });
    await third.offer(30);
    const won = await respond(s, 3, 30, 'accepted');
    expect(won.body).toMatchObject({ assigned: true, outcome: 'assigned' });

    const detail = await get(s, '/api/admin/shifts/30');
    expect(detail.body).toMatchObject({ status: 'assigned', mode: 'cascade', assigned_to: [3] });
    expect(
      detail.body.holders.map((h: { emp_id: number; position: number; outcome: string }) => [
        h.emp_id,
        h.position,
        h.outcome,
      ]),
    ).toEqual([
      [1, 1, 'rejected'],
      [2, 2, 'expired'],
      [3, 3, 'assigned'],
    ]);
    expect(first.messages.filter((m) => m.type === 'shift_offer')).toHaveLength(1);
  });

  it('marks the shift unfilled when everyone in the list said no', async () => {
    const s = await server();
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 31, mode: 'cascade', offer_to: [1, 2] });
    await respond(s, 1, 31, 'rejected');
    await respond(s, 2, 31, 'rejected');
    const shift = await get(s, '/api/admin/shifts/31');
    expect(shift.body.status).toBe('unfilled');
    expect((await get(s, '/api/shift_offer/31/available')).body.available).toBe(false);
  });
});

describe('several slots', () => {
  it('assigns exactly two of 30 concurrent accepters to a two-slot shift', async () => {
    const s = await server();
    const employees = Array.from({ length: 30 }, (_, i) => 100 + i);
    const phones = await Promise.all(employees.map((id) => phone(s, id)));
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 40, slots: 2, offer_to: employees });
    await Promise.all(phones.map((p) => p.offer(40)));
    const answers = await Promise.all(employees.map((id) => respond(s, id, 40, 'accepted')));
    const winners = answers.filter((a) => a.body.assigned).map((a) => a.body.emp_id);
    expect(winners).toHaveLength(2);
    const results = await Promise.all(phones.map((p) => p.result(40)));
    expect(results.filter((r) => r.status === 'assigned')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'taken')).toHaveLength(28);
    const shift = await get(s, '/api/admin/shifts/40');
    expect(shift.body).toMatchObject({ status: 'assigned', slots: 2 });
    expect([...shift.body.assigned_to].sort()).toEqual([...winners].sort());
  });
});

describe('approval', () => {
  it('turns accepts into requests, and the approved one gets the shift', async () => {
    const s = await server();
    const [a, b, c] = [await phone(s, 1), await phone(s, 2), await phone(s, 3)];
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 50, approval: true, offer_to: [1, 2, 3] });
    const first = await respond(s, 1, 50, 'accepted');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ assigned: false, outcome: 'requested' });
    expect(first.body.message).toMatch(/approval pending/);
    await respond(s, 2, 50, 'accepted');
    expect((await get(s, '/api/shift_offer/50/available')).body.available).toBe(true);

    const notAsked = await post(s, '/api/admin/shifts/50/approve/3');
    expect(notAsked.status).toBe(409);
    expect(notAsked.body.code).toBe('E_NOT_REQUESTED');

    const approved = await post(s, '/api/admin/shifts/50/approve/2');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'assigned', assigned_to: [2] });
    const told = (status: string) => (m: { type: string; shift_id: number; status: string }) =>
      m.type === 'offer_result' && m.shift_id === 50 && m.status === status;
    // Those who asked were told so when they asked, then how it ended.
    expect(await b.result(50)).toMatchObject({ status: 'requested' });
    await b.next(told('assigned'));
    expect(await a.result(50)).toMatchObject({ status: 'requested' });
    await a.next(told('taken'));
    expect(await c.result(50)).toMatchObject({ status: 'taken' });
    // The app's retry of its accept now hears how it ended.
    expect((await respond(s, 1, 50, 'accepted')).body).toMatchObject({ outcome: 'taken' });
    expect((await respond(s, 2, 50, 'accepted')).body).toMatchObject({ assigned: true });
    const twice = await post(s, '/api/admin/shifts/50/approve/2');
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({
      code: 'E_NOT_REQUESTED',
      message: 'Employee 2 already has shift 50; there is nothing to approve.',
    });
  });
});

describe('journal and reset', () => {
  it('records every push and request, filtered by employee and kind', async () => {
    const s = await server();
    const c = await phone(s, 5);
    await post(s, '/api/test/send_offer/5?shift_id=60');
    await c.offer(60);
    await respond(s, 5, 60, 'accepted');
    await c.result(60);
    const journal = await get(s, '/api/admin/journal?emp_id=5');
    const lines = journal.body.map((e: { kind: string; name: string; outcome: string }) =>
      [e.kind, e.name, e.outcome].join(' '),
    );
    expect(lines).toEqual([
      'push shift_offer sent',
      'request POST /api/test/send_offer/{emp_id} 200',
      'push offer_result sent', // pushed while the answer was being handled
      'request POST /api/shift_offer/respond 200',
    ]);
    const pushes = await get(s, '/api/admin/journal?kind=push&shift_id=60');
    expect(pushes.body).toHaveLength(2);
    const after = await get(s, `/api/admin/journal?after_id=${journal.body[1].id}&emp_id=5`);
    expect(after.body.map((e: { id: number }) => e.id)).toEqual(
      journal.body.slice(2).map((e: { id: number }) => e.id),
    );
  });

  it('clears everything with reset, telling those who held an offer it is gone', async () => {
    const s = await server();
    const c = await phone(s, 5);
    await post(s, '/api/test/send_offer/5?shift_id=61');
    await c.offer(61);
    expect((await post(s, '/api/admin/reset')).body).toEqual({ reset: true });
    expect(await c.result(61)).toEqual({ type: 'offer_result', shift_id: 61, status: 'withdrawn' });
    expect((await get(s, '/api/admin/shifts')).body).toEqual([]);
    expect((await get(s, '/api/shift_offers/pending/5')).body).toEqual([]);
  });
});

describe('faults', () => {
  it('drops pushes but keeps the offer pending, so recovery finds it', async () => {
    const s = await server({ faults: { drop_rate: 1 } });
    const c = await phone(s, 5);
    const sent = await post(s, '/api/test/send_offer/5?shift_id=70');
    expect(sent.body.status).toBe('sent'); // the server believes it sent it
    expect((await get(s, '/api/shift_offers/pending/5')).body).toHaveLength(1);
    const journal = await get(s, '/api/admin/journal?kind=push&emp_id=5');
    expect(journal.body.at(-1)).toMatchObject({ name: 'shift_offer', outcome: 'dropped' });
    c.close();
    await post(s, '/api/admin/faults', { drop_rate: 0 });
    const again = await phone(s, 5);
    await again.offer(70); // replayed on connect
    expect(c.messages.filter((m) => m.type === 'shift_offer')).toEqual([]);
  });

  it('kicks an employee and refuses new connections for a while', async () => {
    const clock = manualClock();
    const s = await server({ clock });
    const c = await phone(s, 5);
    const kicked = await post(s, '/api/admin/kick/5');
    expect(kicked.body).toEqual({ emp_id: 5, disconnected: 1 });
    expect((await c.waitClose()).code).toBe(1006);

    const faults = await post(s, '/api/admin/faults', { refuse_connections_seconds: 30 });
    expect(faults.body.refusing_connections_until).toBe(
      new Date(clock.now() + 30_000).toISOString(),
    );
    const refused = await connect(s, 5).catch((err: Error) => err);
    expect(String(refused)).toMatch(/503/);
    clock.advance(30_000);
    await phone(s, 5);
  });

  it('delays pushes and HTTP answers, but never the admin API', async () => {
    const s = await server({ faults: { push_latency_ms: 50, http_latency_ms: 50 } });
    const c = await phone(s, 5);
    await post(s, '/api/test/send_offer/5?shift_id=71');
    expect(c.messages).toEqual([]); // answered before the delayed push went out
    await c.offer(71);
    const view = await get(s, '/api/admin/faults');
    expect(view.body).toMatchObject({ push_latency_ms: 50, http_latency_ms: 50, drop_rate: 0 });
  });
});

describe('edges of the lifecycle', () => {
  it('treats queued cascade steps as never offered, even after the shift is filled', async () => {
    const s = await server();
    const first = await phone(s, 1);
    const created = await post(s, '/api/admin/shifts', {
      ...SHIFT,
      id: 80,
      mode: 'cascade',
      offer_to: [1, 2, 3],
    });
    expect(created.body.offers[0]).toEqual({ emp_id: 1, status: 'sent' });
    await first.offer(80);
    await respond(s, 1, 80, 'accepted');
    const never = await respond(s, 3, 80, 'accepted');
    expect(never.status).toBe(404);
    expect(never.body.code).toBe('E_OFFER_NOT_FOUND');
    expect((await get(s, '/api/shift_offers/history/2')).body).toEqual([]);
  });

  it('moves a cascade on after an approval that leaves a slot', async () => {
    const s = await server();
    await post(s, '/api/admin/shifts', {
      ...SHIFT,
      id: 81,
      mode: 'cascade',
      approval: true,
      slots: 2,
      offer_to: [1, 2],
    });
    await respond(s, 1, 81, 'accepted');
    await post(s, '/api/admin/shifts/81/approve/1');
    expect((await get(s, '/api/shift_offers/pending/2')).body.map((o: any) => o.shift_id)).toEqual([
      81,
    ]);
  });

  it('refuses to approve a requester once the slots are gone, with E_SHIFT_TAKEN', async () => {
    const s = await server();
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 82, approval: true, offer_to: [1, 2] });
    await respond(s, 1, 82, 'accepted');
    await respond(s, 2, 82, 'accepted');
    await post(s, '/api/admin/shifts/82/approve/1');
    const late = await post(s, '/api/admin/shifts/82/approve/2');
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('E_SHIFT_TAKEN');
  });

  it('leaves a shift untouched when the test endpoint refuses to offer it', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/1?shift_id=83');
    await respond(s, 1, 83, 'accepted');
    const refused = await post(s, '/api/test/send_offer/2?shift_id=83', { location_name: 'X' });
    expect(refused.status).toBe(409);
    expect((await get(s, '/api/admin/shifts/83')).body.location_name).toBe('Outreach Center');
  });

  it('gives cascade steps the server default deadline', async () => {
    const clock = manualClock();
    const s = await server({ clock, offerTtlSeconds: 60 });
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 84, mode: 'cascade', offer_to: [1, 2] });
    clock.advance(60_000);
    const pending = await get(s, '/api/shift_offers/pending/2');
    expect(pending.body.map((o: { shift_id: number }) => o.shift_id)).toEqual([84]);
  });

  it('refuses an answer after the deadline even when the timer is late', async () => {
    const clock = manualClock();
    const s = await server({ clock });
    const c = await phone(s, 1);
    await post(s, '/api/test/send_offer/1?shift_id=85&ttl_seconds=60');
    clock.jump(60_000);
    const late = await respond(s, 1, 85, 'accepted');
    expect(late.status).toBe(410);
    expect(await c.result(85)).toMatchObject({ status: 'expired' });
  });

  it('answers an offer lost to another employee as taken, even after its deadline', async () => {
    const clock = manualClock();
    const s = await server({ clock });
    await post(s, '/api/test/send_offer/1?shift_id=86&ttl_seconds=60');
    await post(s, '/api/test/send_offer/2?shift_id=86&ttl_seconds=60');
    expect((await respond(s, 1, 86, 'accepted')).body.assigned).toBe(true);
    clock.jump(120_000); // employee 2 answers late: the shift was taken before the deadline
    for (const response of ['accepted', 'rejected'] as const) {
      const late = await respond(s, 2, 86, response);
      expect(late.status).toBe(200);
      expect(late.body).toMatchObject({ assigned: false, outcome: 'taken' });
      if (response === 'accepted') break; // the first answer is final
    }
    const again = await respond(s, 2, 86, 'rejected');
    expect(again.status).toBe(409);
  });

  it('keeps journal ids growing across a reset, so a follower misses nothing', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/1?shift_id=86');
    const before = (await get(s, '/api/admin/journal')).body;
    const lastBefore = before.at(-1).id;
    await post(s, '/api/admin/reset');
    await post(s, '/api/test/send_offer/1?shift_id=87');
    const after = (await get(s, `/api/admin/journal?after_id=${lastBefore}`)).body;
    expect(after.map((e: { name: string }) => e.name)).toEqual([
      'reset: journal cleared',
      'offer_result', // shift 86 is gone: its holder is told (withdrawn)
      'POST /api/admin/reset',
      'shift_offer',
      'POST /api/test/send_offer/{emp_id}',
    ]);
  });
});
