/** Priority offers through the real server: the admin API, the wire, pending order, deadlines. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ShiftServer } from '../src/server/create-server.js';
import { connect, get, manualClock, post, respond, startServer } from './helpers.js';

let servers: ShiftServer[] = [];
async function server(options = {}): Promise<ShiftServer> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const SHIFT = { date: '2026-03-01', start_time: '08:00', end_time: '16:00' };
const MINUTE = 60_000;

const ids = (offers: Array<{ shift_id: number }>) => offers.map((o) => o.shift_id);

describe('an urgent shift', () => {
  it('is created urgent by the admin API, shown so there, and its offer says so on the wire', async () => {
    const s = await server();
    const phone = await connect(s, 5);
    const created = await post(s, '/api/admin/shifts', {
      ...SHIFT,
      id: 70,
      priority: 'urgent',
      offer_to: [5],
    });
    expect(created.status).toBe(201);
    expect(created.body.shift).toMatchObject({ id: 70, priority: 'urgent' });
    expect(await phone.offer(70)).toEqual({
      type: 'shift_offer',
      shift_id: 70,
      ...SHIFT,
      priority: 'urgent',
    });
    expect((await get(s, '/api/admin/shifts/70')).body.priority).toBe('urgent');
    expect((await get(s, '/api/admin/shifts')).body[0].priority).toBe('urgent');
    // A normal shift: `normal` in the admin views, and its offer exactly as before.
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 71, offer_to: [5] });
    expect((await get(s, '/api/admin/shifts/71')).body.priority).toBe('normal');
    const normal = await phone.offer(71);
    expect(Object.hasOwn(normal, 'priority')).toBe(false);
    const history = await get(s, '/api/shift_offers/history/5');
    expect(history.body.map((h: { priority?: string }) => h.priority)).toEqual([
      undefined,
      'urgent',
    ]);
    phone.close();
  });

  it('is listed first by the pending endpoint and replayed first on connect, then oldest first', async () => {
    const clock = manualClock();
    const s = await server({ clock });
    for (const [id, priority] of [
      [81, 'normal'],
      [82, 'urgent'],
      [83, 'normal'],
      [84, 'urgent'],
    ] as const) {
      await post(s, `/api/test/send_offer/6?shift_id=${id}`, { priority });
      clock.advance(1000);
    }
    const pending = await get(s, '/api/shift_offers/pending/6');
    expect(ids(pending.body)).toEqual([82, 84, 81, 83]);
    expect(pending.body[0]).toMatchObject({ shift_id: 82, priority: 'urgent' });
    const phone = await connect(s, 6);
    await phone.offer(83);
    expect(ids(phone.messages.filter((m) => m.type === 'shift_offer'))).toEqual([82, 84, 81, 83]);
    phone.close();
  });

  it('can be escalated by the test endpoint: holders get the offer again, marked urgent', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/7?shift_id=90');
    const phone = await connect(s, 7);
    await phone.offer(90);
    await post(s, '/api/test/send_offer/8?shift_id=90', { priority: 'urgent' });
    await expect
      .poll(() => phone.messages.filter((m) => m.type === 'shift_offer').at(-1))
      .toMatchObject({ shift_id: 90, priority: 'urgent' });
    phone.close();
  });

  it('refuses a priority it does not know, with a coded error', async () => {
    const s = await server();
    const bad = await post(s, '/api/admin/shifts', { ...SHIFT, priority: 'high' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, code: 'E_INVALID_BODY' });
    expect(bad.body.message).toContain('priority');
    const test = await post(s, '/api/test/send_offer/5?shift_id=1', { priority: 'URGENT' });
    expect(test.status).toBe(400);
    expect(test.body).toMatchObject({ code: 'E_INVALID_BODY' });
    expect((await get(s, '/api/admin/shifts')).body).toEqual([]);
  });
});

describe('serve --urgent-ttl', () => {
  it('gives urgent offers made without a deadline their own, and normal ones the --offer-ttl', async () => {
    const clock = manualClock();
    const s = await server({ clock, offerTtlSeconds: 3600, urgentTtlSeconds: 300 });
    const phone = await connect(s, 5);
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 1, priority: 'urgent', offer_to: [5] });
    await post(s, '/api/test/send_offer/5?shift_id=2', { priority: 'urgent' });
    await post(s, '/api/test/send_offer/5?shift_id=3');
    // A deadline given with the request wins over either default.
    await post(s, '/api/admin/shifts', {
      ...SHIFT,
      id: 4,
      priority: 'urgent',
      ttl_seconds: 1200,
      offer_to: [5],
    });
    const now = clock.now();
    expect((await phone.offer(1)).expires_at).toBe(new Date(now + 5 * MINUTE).toISOString());
    expect((await phone.offer(2)).expires_at).toBe(new Date(now + 5 * MINUTE).toISOString());
    expect((await phone.offer(3)).expires_at).toBe(new Date(now + 60 * MINUTE).toISOString());
    expect((await phone.offer(4)).expires_at).toBe(new Date(now + 20 * MINUTE).toISOString());
    clock.advance(5 * MINUTE);
    expect(await phone.result(1)).toMatchObject({ status: 'expired' });
    expect(await phone.result(2)).toMatchObject({ status: 'expired' });
    expect((await respond(s, 5, 3, 'accepted')).body.assigned).toBe(true);
    expect(ids((await get(s, '/api/shift_offers/pending/5')).body)).toEqual([4]);
    phone.close();
  });

  it('applies to a known urgent shift offered again by the test endpoint, and to cascade steps', async () => {
    const clock = manualClock();
    const s = await server({ clock, urgentTtlSeconds: 120 });
    await post(s, '/api/test/send_offer/5?shift_id=10', { priority: 'urgent' });
    // No body: the known shift's priority decides.
    await post(s, '/api/test/send_offer/6?shift_id=10');
    // Without --offer-ttl, a normal offer has no deadline.
    await post(s, '/api/test/send_offer/6?shift_id=11');
    await post(s, '/api/admin/shifts', {
      ...SHIFT,
      id: 12,
      priority: 'urgent',
      mode: 'cascade',
      offer_to: [7, 8],
    });
    const deadline = new Date(clock.now() + 2 * MINUTE).toISOString();
    const pending6 = (await get(s, '/api/shift_offers/pending/6')).body;
    expect(pending6).toEqual([
      expect.objectContaining({ shift_id: 10, expires_at: deadline }),
      expect.not.objectContaining({ expires_at: expect.anything() }),
    ]);
    expect((await get(s, '/api/shift_offers/pending/7')).body[0].expires_at).toBe(deadline);
    clock.advance(2 * MINUTE);
    const steps = async () =>
      (await get(s, '/api/admin/shifts/12')).body.holders.map(
        (h: { emp_id: number; outcome: string; expires_at: string | null }) => [
          h.emp_id,
          h.outcome,
          h.expires_at,
        ],
      );
    // The next step of the cascade gets the urgent deadline too.
    await expect.poll(steps).toEqual([
      [7, 'expired', deadline],
      [8, 'open', new Date(clock.now() + 2 * MINUTE).toISOString()],
    ]);
  });
});
