/**
 * Nothing is offered for a closed shift, ever (PROTOCOL.md, Additions): every way of offering a
 * shift raced, round after round, against the answer or withdrawal that closes it; and a
 * withdrawal that cancels assignments tells the assigned.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ShiftServer } from '../src/server/create-server.js';
import {
  connect,
  get,
  type HttpResult,
  post,
  respond,
  startServer,
  type TestClient,
} from './helpers.js';

const ROUNDS = 200;
const A = 101;
const B = 202;
/** A shift no round uses: offered last, so that its arrival means every earlier push arrived. */
const SENTINEL = 1;

let server: ShiftServer;
let clients: TestClient[] = [];
beforeEach(async () => {
  // Hundreds of answers a second from the same two employees: no answer rate limit here.
  server = await startServer({ answerRateLimits: false });
});
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await server.close();
});

function createShift(id: number, offerTo: number[], extra: Record<string, unknown> = {}) {
  return post(server, '/api/admin/shifts', {
    id,
    date: '2026-03-01',
    start_time: '07:00',
    end_time: '15:00',
    offer_to: offerTo,
    ...extra,
  });
}

/**
 * What an employee's devices were told of a shift, in order: `offer` for each `shift_offer`, and
 * the status of each `offer_result` that closes or settles an offer.
 */
function toldOf(client: TestClient, shiftId: number): string[] {
  return client.messages
    .filter((m) => m.shift_id === shiftId)
    .filter(
      (m) => m.type === 'shift_offer' || ['assigned', 'taken', 'withdrawn'].includes(m.status),
    )
    .map((m) => (m.type === 'shift_offer' ? 'offer' : m.status));
}

/** Waits until every push made so far has reached these clients. */
async function drain(...employees: Array<[number, TestClient]>) {
  for (const [empId] of employees) {
    expect((await post(server, `/api/test/send_offer/${empId}?shift_id=${SENTINEL}`)).status).toBe(
      200,
    );
  }
  await Promise.all(employees.map(([, c]) => c.offer(SENTINEL)));
}

/** Runs `round` ROUNDS times, each on a shift of its own; the two calls of a round race. */
async function race<T>(first: number, round: (shiftId: number, i: number) => Promise<T>) {
  const results: Array<[number, T]> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const shiftId = first + i;
    results.push([shiftId, await round(shiftId, i)]);
  }
  return results;
}

/** Starts both calls at once, alternating which goes first. */
function both<X, Y>(i: number, x: () => Promise<X>, y: () => Promise<Y>): Promise<[X, Y]> {
  if (i % 2 === 0) return Promise.all([x(), y()]);
  return Promise.all([y(), x()]).then(([b, a]) => [a, b]);
}

/**
 * After a race between offering a shift to B and something that closed it: the offer was
 * either refused with `code` and B was told nothing, or made before the close and then closed
 * for B with `closedAs`. Either way nothing is left open on the shift, and B's late acceptance
 * is refused as the protocol says.
 */
async function expectClosedFor(
  b: TestClient,
  rounds: Array<[number, HttpResult<any>]>,
  code: string,
  closedAs: 'taken' | 'withdrawn',
) {
  for (const [shiftId, sent] of rounds) {
    const told = toldOf(b, shiftId);
    if (sent.status === 200) {
      expect({ shiftId, told }).toEqual({ shiftId, told: ['offer', closedAs] });
    } else {
      expect({ shiftId, status: sent.status, code: sent.body.code }).toEqual({
        shiftId,
        status: 409,
        code,
      });
      expect({ shiftId, told }).toEqual({ shiftId, told: [] });
    }
    const shift = await get(server, `/api/admin/shifts/${shiftId}`);
    expect(shift.body.status).not.toBe('open');
    expect({ shiftId, open: shift.body.offers.open }).toEqual({ shiftId, open: 0 });
    const late = await respond(server, B, shiftId, 'accepted');
    if (sent.status !== 200) expect(late.status).toBe(404);
    else if (closedAs === 'withdrawn') {
      expect(late.status).toBe(410);
      expect(late.body.code).toBe('E_OFFER_WITHDRAWN');
    } else expect(late.body).toMatchObject({ assigned: false, outcome: 'taken' });
  }
  expect((await get(server, `/api/shift_offers/pending/${B}`)).body).toEqual([
    expect.objectContaining({ shift_id: SENTINEL }),
  ]);
}

describe('an offer raced against the close of its shift', () => {
  let b: TestClient;
  beforeEach(async () => {
    b = await connect(server, B);
    clients.push(b);
  });

  const offerTo = {
    send_offer: (shiftId: number) => post(server, `/api/test/send_offer/${B}?shift_id=${shiftId}`),
    'admin offers': (shiftId: number) =>
      post(server, `/api/admin/shifts/${shiftId}/offers`, { emp_ids: [B] }),
    broadcast: (shiftId: number) =>
      post(server, `/api/test/broadcast/${B}/${B}?shift_id=${shiftId}`),
  };

  for (const [path, send] of Object.entries(offerTo)) {
    it(`${path} vs another employee's accept: refused once taken, never left open`, async () => {
      const rounds = await race(10_000, async (shiftId, i) => {
        expect((await createShift(shiftId, [A])).status).toBe(201);
        const [sent, accepted] = await both(
          i,
          () => send(shiftId),
          () => respond(server, A, shiftId, 'accepted'),
        );
        expect(accepted.body).toMatchObject({ assigned: true });
        return sent;
      });
      await drain([B, b]);
      await expectClosedFor(b, rounds, 'E_SHIFT_TAKEN', 'taken');
    });

    it(`${path} vs withdrawal: refused once withdrawn, never left open`, async () => {
      const rounds = await race(20_000, async (shiftId, i) => {
        expect((await createShift(shiftId, [A])).status).toBe(201);
        const [sent, withdrawn] = await both(
          i,
          () => send(shiftId),
          () => post(server, `/api/admin/shifts/${shiftId}/withdraw`),
        );
        expect(withdrawn.status).toBe(200);
        return sent;
      });
      await drain([B, b]);
      await expectClosedFor(b, rounds, 'E_SHIFT_CLOSED', 'withdrawn');
    });
  }
});

it('approve vs withdrawal: the requester ends withdrawn, told so after any assignment', async () => {
  const a = await connect(server, A);
  clients.push(a);
  const rounds = await race(30_000, async (shiftId, i) => {
    // Odd rounds have a slot left after the approval, so the withdrawal can still happen.
    const slots = 1 + (i % 2);
    await createShift(shiftId, [A], { approval: true, slots });
    expect((await respond(server, A, shiftId, 'accepted')).body.outcome).toBe('requested');
    const [approved, withdrawn] = await both(
      i,
      () => post(server, `/api/admin/shifts/${shiftId}/approve/${A}`),
      () => post(server, `/api/admin/shifts/${shiftId}/withdraw`),
    );
    return { slots, approved, withdrawn };
  });
  await drain([A, a]);
  for (const [shiftId, { slots, approved, withdrawn }] of rounds) {
    const shift = (await get(server, `/api/admin/shifts/${shiftId}`)).body;
    const told = toldOf(a, shiftId);
    const outcome = { shiftId, approved: approved.status, withdrawn: withdrawn.status };
    if (withdrawn.status === 200) {
      // Withdrawn first, or approved first with a slot left: the assignment is cancelled too.
      expect(shift).toMatchObject({ status: 'withdrawn', assigned_to: [] });
      expect(shift.holders).toEqual([expect.objectContaining({ emp_id: A, outcome: 'withdrawn' })]);
      if (approved.status === 200) {
        expect(slots).toBe(2);
        expect({ ...outcome, told }).toEqual({
          ...outcome,
          told: ['offer', 'assigned', 'withdrawn'],
        });
      } else {
        expect({ ...outcome, code: approved.body.code }).toEqual({
          ...outcome,
          code: 'E_SHIFT_CLOSED',
        });
        expect({ ...outcome, told }).toEqual({ ...outcome, told: ['offer', 'withdrawn'] });
      }
      const late = await respond(server, A, shiftId, 'accepted');
      expect(late.status).toBe(410);
      expect(late.body.code).toBe('E_OFFER_WITHDRAWN');
    } else {
      // Approved first and full: too late to withdraw.
      expect({ ...outcome, slots, code: withdrawn.body.code }).toEqual({
        ...outcome,
        approved: 200,
        withdrawn: 409,
        slots: 1,
        code: 'E_SHIFT_TAKEN',
      });
      expect(shift).toMatchObject({ status: 'assigned', assigned_to: [A] });
      expect(told).toEqual(['offer', 'assigned']);
    }
    expect(shift.offers.open + shift.offers.requested).toBe(0);
  }
  const history = (await get(server, `/api/shift_offers/history/${A}?limit=1000`)).body;
  const withdrawnRounds = rounds.filter(([, r]) => r.withdrawn.status === 200).map(([id]) => id);
  expect(
    history
      .filter((h: { outcome: string }) => h.outcome === 'withdrawn')
      .map((h: { shift_id: number }) => h.shift_id)
      .sort(),
  ).toEqual(withdrawnRounds.sort());
});

it('cascade step vs withdrawal: the next employee is offered the shift only before it closes', async () => {
  const a = await connect(server, A);
  const b = await connect(server, B);
  clients.push(a, b);
  const rounds = await race(40_000, async (shiftId, i) => {
    await createShift(shiftId, [A, B], { mode: 'cascade' });
    // The rejection moves the cascade on to B, unless the withdrawal came first.
    const [rejected, withdrawn] = await both(
      i,
      () => respond(server, A, shiftId, 'rejected'),
      () => post(server, `/api/admin/shifts/${shiftId}/withdraw`),
    );
    expect(withdrawn.status).toBe(200);
    return rejected;
  });
  await drain([A, a], [B, b]);
  for (const [shiftId, rejected] of rounds) {
    const shift = (await get(server, `/api/admin/shifts/${shiftId}`)).body;
    expect(shift.status).toBe('withdrawn');
    expect({ shiftId, open: shift.offers.open }).toEqual({ shiftId, open: 0 });
    const told = toldOf(b, shiftId);
    expect([[], ['offer', 'withdrawn']]).toContainEqual(told);
    if (rejected.status !== 200) {
      expect(rejected.body.code).toBe('E_OFFER_WITHDRAWN');
      expect(told).toEqual([]);
    }
    const late = await respond(server, B, shiftId, 'accepted');
    expect(late.status).toBe(told.length === 0 ? 404 : 410);
  }
});

it('tells an employee assigned to a partly filled shift that it was withdrawn, everywhere', async () => {
  const SHIFT = 700;
  const [a1, a2, b] = [
    await connect(server, A),
    await connect(server, A),
    await connect(server, B),
  ];
  clients.push(a1, a2, b);
  await createShift(SHIFT, [A, B], { slots: 2 });
  expect((await respond(server, A, SHIFT, 'accepted')).body.assigned).toBe(true);
  expect((await get(server, `/api/admin/shifts/${SHIFT}`)).body.assigned_to).toEqual([A]);

  const withdrawn = await post(server, `/api/admin/shifts/${SHIFT}/withdraw`);

  expect(withdrawn.status).toBe(200);
  expect(withdrawn.body).toMatchObject({ status: 'withdrawn', assigned_to: [] });
  expect(
    withdrawn.body.holders.map((h: { emp_id: number; outcome: string }) => [h.emp_id, h.outcome]),
  ).toEqual([
    [A, 'withdrawn'],
    [B, 'withdrawn'],
  ]);
  for (const device of [a1, a2, b]) {
    expect(await device.next((m) => m.type === 'offer_result' && m.status === 'withdrawn')).toEqual(
      {
        type: 'offer_result',
        shift_id: SHIFT,
        status: 'withdrawn',
      },
    );
  }
  const [item] = (await get(server, `/api/shift_offers/history/${A}`)).body;
  expect(item).toMatchObject({ shift_id: SHIFT, response: 'accepted', outcome: 'withdrawn' });
  const employees = (await get(server, '/api/admin/employees')).body;
  expect(employees.find((e: { emp_id: number }) => e.emp_id === A)?.assigned).toEqual([]);
  expect((await get(server, `/api/admin/shifts?status=withdrawn`)).body).toEqual([
    expect.objectContaining({
      id: SHIFT,
      assigned_to: [],
      offers: expect.objectContaining({ open: 0 }),
    }),
  ]);
  // The assigned employee's answer, retried, no longer holds.
  const retry = await respond(server, A, SHIFT, 'accepted');
  expect(retry.status).toBe(410);
  expect(retry.body.code).toBe('E_OFFER_WITHDRAWN');
});
