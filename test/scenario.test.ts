/** Scenario files: validated like fixtures, played on the server's clock. */
import { describe, expect, it } from 'vitest';
import { parseScenario, readScenario } from '../src/scenario.js';
import { connect, get, manualClock, startServer } from './helpers.js';

const SCENARIOS = ['night-cover-cascade', 'flaky-network', 'weekend-two-nurses'];

describe('scenario files', () => {
  it.each(SCENARIOS)('fixtures/scenarios/%s.json is valid', async (name) => {
    const scenario = await readScenario(`fixtures/scenarios/${name}.json`);
    expect(scenario.steps.length).toBeGreaterThan(1);
  });

  it('refuses a step it does not know, naming it', () => {
    expect(() => parseScenario({ name: 'x', steps: [{ at: '5x', explode: 1 }] }, 's.json')).toThrow(
      /Invalid scenario in s\.json/,
    );
    expect(() => parseScenario({ name: 'x', steps: [] }, 's.json')).toThrow(/steps/);
  });

  it('names the missing field of a step, or the actions it has too many or none of', () => {
    const refusal = (step: unknown) => {
      try {
        parseScenario({ name: 'x', steps: [{ at: 0, kick: 1 }, step] }, 's.json');
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refusal({ at: 0, offer: { shift_id: 1 } })).toBe(
      'Invalid scenario in s.json:\n  steps.1.offer.emp_ids: is required',
    );
    expect(refusal({ at: 0, withdraw: 1, kick: 2 })).toBe(
      'Invalid scenario in s.json:\n  steps.1: withdraw and kick cannot be given together: give one of them',
    );
    expect(refusal({ at: 0 })).toBe(
      'Invalid scenario in s.json:\n  steps.1: needs one of create_shift, offer, withdraw, kick, fault',
    );
    expect(refusal({ offer: { shift_id: 1, emp_ids: [2] } })).toBe(
      'Invalid scenario in s.json:\n  steps.1.at: is required',
    );
    expect(refusal({ at: 0, kick: 1, kik: 2 })).toBe(
      'Invalid scenario in s.json:\n  steps.1: unknown field kik',
    );
    expect(refusal(5)).toBe('Invalid scenario in s.json:\n  steps.1: must be an object');
  });

  it('plays the night-cover cascade as the clock moves', async () => {
    const clock = manualClock(Date.now());
    const scenario = await readScenario('fixtures/scenarios/night-cover-cascade.json');
    const server = await startServer({ clock, scenario });
    const [first, second] = [await connect(server, 101), await connect(server, 107)];
    try {
      expect((await get(server, '/api/admin/shifts')).body).toEqual([]);
      clock.advance(5_000);
      // The sick call is urgent: its offer says so, and so does the shift.
      expect(await first.offer(2001)).toMatchObject({ shift_id: 2001, priority: 'urgent' });
      expect((await get(server, '/api/admin/shifts/2001')).body.priority).toBe('urgent');
      clock.advance(120_000); // the first nurse does not answer in two minutes
      expect(await first.result(2001)).toMatchObject({ status: 'expired' });
      await second.offer(2001);
      clock.advance(60_000); // three minutes in: the visit is withdrawn
      const visit = await get(server, '/api/admin/shifts/2002');
      expect(visit.body.status).toBe('withdrawn');
      expect(second.messages.filter((m) => m.type === 'shift_offer')).toHaveLength(1);
    } finally {
      first.close();
      second.close();
      await server.close();
    }
  });

  it('switches faults on and off at the scripted times', async () => {
    const clock = manualClock(Date.now());
    const scenario = await readScenario('fixtures/scenarios/flaky-network.json');
    const server = await startServer({ clock, scenario });
    try {
      clock.advance(0);
      await expect
        .poll(async () => (await get(server, '/api/admin/faults')).body.drop_rate)
        .toBe(0.3);
      clock.advance(60_000);
      await expect
        .poll(async () => (await get(server, '/api/admin/faults')).body)
        .toMatchObject({ drop_rate: 0, push_latency_ms: 0, refusing_connections_until: null });
      const shifts = await get(server, '/api/admin/shifts');
      expect(shifts.body.map((s: { id: number }) => s.id)).toEqual([2101, 2102]);
    } finally {
      await server.close();
    }
  });
});
