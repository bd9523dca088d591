/** The admin API: create and offer shifts, list them with their state, see who holds what. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ShiftServer } from '../src/server/create-server.js';
import { connect, get, post, respond, startServer, type TestClient } from './helpers.js';

let server: ShiftServer;
let phone: TestClient | undefined;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  phone?.close();
  phone = undefined;
  await server.close();
});

const SHIFT = {
  date: '2026-03-05',
  start_time: '22:00',
  end_time: '07:00',
  location_name: 'Maple Grove Care Home',
  client_name: 'Margaret Chen',
  service_type: 'Overnight Care',
  description: 'Overnight supervision.',
};

describe('POST /api/admin/shifts', () => {
  it('creates a shift, offers it in the same call and says how each offer went', async () => {
    phone = await connect(server, 11);
    const res = await post(server, '/api/admin/shifts', { ...SHIFT, offer_to: [11, 12] });
    expect(res.status).toBe(201);
    expect(res.body.offers).toEqual([
      { emp_id: 11, status: 'sent' },
      { emp_id: 12, status: 'pending' },
    ]);
    const id = res.body.shift.id;
    expect(res.body.shift).toMatchObject({
      ...SHIFT,
      id,
      status: 'open',
      assigned_to: [],
      offers: { total: 2, open: 2, accepted: 0, rejected: 0 },
    });
    expect(await phone.offer(id)).toEqual({ type: 'shift_offer', shift_id: id, ...SHIFT });
  });

  it('chooses ids when none is given and refuses a duplicate id with 409', async () => {
    const a = await post(server, '/api/admin/shifts', SHIFT);
    const b = await post(server, '/api/admin/shifts', SHIFT);
    expect(b.body.shift.id).toBe(a.body.shift.id + 1);
    const dup = await post(server, '/api/admin/shifts', { ...SHIFT, id: a.body.shift.id });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('E_SHIFT_EXISTS');
  });

  it('names every missing or malformed field', async () => {
    const res = await post(server, '/api/admin/shifts', { start_time: '7:00', offer_to: ['x'] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('E_INVALID_BODY');
    expect(res.body.message).toContain('date: is required');
    expect(res.body.message).toContain('start_time: must be a 24-hour time as HH:MM');
    expect(res.body.message).toContain('end_time: is required');
    expect(res.body.message).toContain('offer_to.0: must be a number');
    expect(res.body.details.issues.length).toBe(4);
  });
});

describe('offering, listing and holders', () => {
  it('offers an existing shift to more employees, skipping those who answered', async () => {
    const { body } = await post(server, '/api/admin/shifts', { ...SHIFT, id: 70, offer_to: [1] });
    expect(body.shift.id).toBe(70);
    await respond(server, 1, 70, 'rejected');
    const more = await post(server, '/api/admin/shifts/70/offers', { emp_ids: [1, 2, 2, 3] });
    expect(more.status).toBe(200);
    expect(more.body.offers).toEqual([
      { emp_id: 1, status: 'answered' },
      { emp_id: 2, status: 'pending' },
      { emp_id: 3, status: 'pending' },
    ]);
    expect(more.body.shift.offers).toMatchObject({ total: 3, open: 2, accepted: 0, rejected: 1 });
  });

  it('offers a shift to many employees at once, some of whom already hold or answered it', async () => {
    await post(server, '/api/admin/shifts', { ...SHIFT, id: 72, offer_to: [1, 2] });
    await respond(server, 1, 72, 'rejected');
    const many = Array.from({ length: 20 }, (_, i) => i + 1);
    const more = await post(server, '/api/admin/shifts/72/offers', { emp_ids: many });
    expect(more.status).toBe(200);
    expect(more.body.offers).toEqual([
      { emp_id: 1, status: 'answered' },
      ...many.slice(1).map((emp_id) => ({ emp_id, status: 'pending' })),
    ]);
    expect(more.body.shift.offers).toMatchObject({ total: 20, open: 19, rejected: 1 });
    for (const empId of [2, 20]) {
      const pending = await get(server, `/api/shift_offers/pending/${empId}`);
      expect(pending.body).toEqual([expect.objectContaining({ shift_id: 72 })]);
    }
  });

  it('refuses offers whose expires_at has passed, before writing anything', async () => {
    const past = '2020-01-01T10:00:00Z';
    const created = await post(server, '/api/admin/shifts', {
      ...SHIFT,
      id: 4100,
      offer_to: [11],
      expires_at: past,
    });
    expect(created.status).toBe(400);
    expect(created.body).toMatchObject({ code: 'E_INVALID_BODY' });
    expect(created.body.message).toContain(`expires_at: ${past} has passed`);
    expect((await get(server, '/api/admin/shifts/4100')).status).toBe(404);

    expect((await post(server, '/api/admin/shifts', { ...SHIFT, id: 4101 })).status).toBe(201);
    const offered = await post(server, '/api/admin/shifts/4101/offers', {
      emp_ids: [11],
      expires_at: past,
    });
    expect(offered.status).toBe(400);
    expect((await get(server, '/api/admin/shifts/4101')).body.holders).toEqual([]);
  });

  it('refuses to offer an assigned shift', async () => {
    await post(server, '/api/admin/shifts', { ...SHIFT, id: 71, offer_to: [1] });
    await respond(server, 1, 71, 'accepted');
    const res = await post(server, '/api/admin/shifts/71/offers', { emp_ids: [2] });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('E_SHIFT_TAKEN');
  });

  it('lists shifts with their state, filtered by status', async () => {
    await post(server, '/api/admin/shifts', { ...SHIFT, id: 80, offer_to: [1, 2] });
    await post(server, '/api/admin/shifts', { ...SHIFT, id: 81, date: '2026-03-06' });
    await respond(server, 2, 80, 'accepted');
    const all = await get(server, '/api/admin/shifts');
    expect(all.body.map((s: { id: number }) => s.id)).toEqual([80, 81]);
    const open = await get(server, '/api/admin/shifts?status=open');
    expect(open.body.map((s: { id: number }) => s.id)).toEqual([81]);
    const assigned = await get(server, '/api/admin/shifts?status=assigned');
    expect(assigned.body).toEqual([
      expect.objectContaining({ id: 80, status: 'assigned', assigned_to: [2] }),
    ]);
    const bad = await get(server, '/api/admin/shifts?status=gone');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('E_INVALID_QUERY');
  });

  it('shows every holder of a shift with the state of their offer', async () => {
    await post(server, '/api/admin/shifts', { ...SHIFT, id: 90, offer_to: [1, 2, 3] });
    await respond(server, 1, 90, 'rejected');
    await respond(server, 2, 90, 'accepted');
    const { body } = await get(server, '/api/admin/shifts/90');
    const holders = Object.fromEntries(
      body.holders.map((h: { emp_id: number; outcome: string; response: string | null }) => [
        h.emp_id,
        [h.response, h.outcome],
      ]),
    );
    expect(holders).toEqual({
      1: ['rejected', 'rejected'],
      2: ['accepted', 'assigned'],
      3: [null, 'taken'],
    });
  });

  it('lists who holds what, with names from fixtures and live devices', async () => {
    await server.close();
    server = await startServer({
      fixtures: { employees: [{ id: 1, name: 'Amara Okafor' }], shifts: [] },
    });
    phone = await connect(server, 2);
    await post(server, '/api/admin/shifts', { ...SHIFT, id: 95, offer_to: [1, 2] });
    await post(server, '/api/admin/shifts', { ...SHIFT, id: 96, offer_to: [2] });
    await respond(server, 2, 96, 'accepted');
    const { body } = await get(server, '/api/admin/employees');
    expect(body).toEqual([
      { emp_id: 1, name: 'Amara Okafor', devices: 0, pending: [95], assigned: [] },
      { emp_id: 2, name: null, devices: 1, pending: [95], assigned: [96] },
    ]);
  });
});
