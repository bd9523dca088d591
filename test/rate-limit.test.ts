/** Answer rate limits, per employee and per address, through a real server. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { http, manualClock, startServer } from './helpers.js';

let servers: ShiftServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A server whose buckets refill only when the test moves its clock. */
async function limited(
  employee: { perSecond: number; burst: number },
  address: { perSecond: number; burst: number },
  options: ServerOptions = {},
) {
  const clock = manualClock();
  const s = await startServer({ clock, answerRateLimits: { employee, address }, ...options });
  servers.push(s);
  return { s, clock };
}

/** The status of one answer (404: no such offer, but it got past the limits). */
async function answer(s: ShiftServer, empId: number, headers: Record<string, string> = {}) {
  const res = await http(
    s,
    'POST',
    '/api/shift_offer/respond',
    { emp_id: empId, shift_id: 1, response: 'rejected' },
    { headers: { 'content-type': 'application/json', ...headers } },
  );
  return res.status;
}

describe('answer rate limits', () => {
  it('does not let one employee flooding its own answers get another on the same address refused', async () => {
    const { s } = await limited({ perSecond: 1, burst: 2 }, { perSecond: 1, burst: 3 });
    const flood = [];
    for (let i = 0; i < 10; i++) flood.push(await answer(s, 5));
    expect(flood).toEqual([404, 404, ...Array(8).fill(429)]);
    expect(await answer(s, 6)).toBe(404);
  });

  it("gives the employee's token back when the address refuses the answer", async () => {
    const { s, clock } = await limited({ perSecond: 0.01, burst: 2 }, { perSecond: 1, burst: 1 });
    expect(await answer(s, 5)).toBe(404);
    // The address is spent: these are refused without costing employee 6 anything.
    expect([await answer(s, 6), await answer(s, 6)]).toEqual([429, 429]);
    clock.jump(1000);
    expect(await answer(s, 6)).toBe(404);
  });

  it('charges each bucket exactly once per served answer when answers arrive at once', async () => {
    const { s } = await limited({ perSecond: 1, burst: 5 }, { perSecond: 1, burst: 8 });
    const flood = Array.from({ length: 10 }, () => answer(s, 5));
    const others = Array.from({ length: 3 }, () => answer(s, 6));
    const [flooded, answered] = await Promise.all([Promise.all(flood), Promise.all(others)]);
    expect(flooded.filter((status) => status === 404)).toHaveLength(5);
    expect(flooded.filter((status) => status !== 404 && status !== 429)).toEqual([]);
    expect(answered).toEqual([404, 404, 404]);
  });
});
