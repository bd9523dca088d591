/** Fixture files: the demo data is valid and loads; bad files get errors that name the problem. */
import { describe, expect, it } from 'vitest';
import { DEMO_FIXTURES_PATH, parseFixtures, readFixtures } from '../src/fixtures.js';
import { get, startServer } from './helpers.js';

describe('the demo fixtures', () => {
  it('are valid: a dozen employees and a week of shifts, some already offered', async () => {
    const data = await readFixtures(DEMO_FIXTURES_PATH);
    expect(data.employees.length).toBeGreaterThanOrEqual(12);
    expect(new Set(data.shifts.map((s) => s.date)).size).toBe(7);
    expect(data.shifts.some((s) => s.offer_to?.includes(123))).toBe(true);
  });

  it('load into an empty database, so employee 123 starts with pending offers', async () => {
    const data = await readFixtures(DEMO_FIXTURES_PATH);
    const server = await startServer({ fixtures: data });
    try {
      expect(server.fixturesLoaded).toBe(true);
      const shifts = await get(server, '/api/admin/shifts');
      expect(shifts.body).toHaveLength(data.shifts.length);
      const pending = await get(server, '/api/shift_offers/pending/123');
      const expected = data.shifts.filter((s) => s.offer_to?.includes(123)).map((s) => s.id);
      expect(pending.body.map((o: { shift_id: number }) => o.shift_id).sort()).toEqual(
        expected.sort(),
      );
      // The demo's urgent shift keeps its priority, so 123's list starts with it.
      const urgent = data.shifts.filter((s) => s.priority === 'urgent').map((s) => s.id);
      expect(urgent).toEqual([1004]);
      expect(pending.body[0]).toMatchObject({ shift_id: 1004, priority: 'urgent' });
      expect((await get(server, '/api/admin/shifts/1004')).body.priority).toBe('urgent');
      expect((await get(server, '/api/admin/shifts/1001')).body.priority).toBe('normal');
      const employees = await get(server, '/api/admin/employees');
      expect(employees.body.find((e: { emp_id: number }) => e.emp_id === 101).name).toBe(
        data.employees.find((e) => e.id === 101)?.name,
      );
    } finally {
      await server.close();
    }
  });
});

describe('invalid fixtures', () => {
  const valid = { date: '2026-01-01', start_time: '08:00', end_time: '16:00' };

  it.each([
    [
      { shifts: [{ ...valid, id: 1, start_time: '25:00' }] },
      'shifts.0.start_time: must be a 24-hour time',
    ],
    [{ shifts: [{ ...valid }] }, 'shifts.0.id: is required'],
    [
      {
        shifts: [
          { ...valid, id: 1 },
          { ...valid, id: 1 },
        ],
      },
      'shifts.1.id: duplicate shift id 1',
    ],
    [
      { shifts: [{ ...valid, id: 1, priority: 'high' }] },
      'shifts.0.priority: must be one of "normal", "urgent"',
    ],
    [{ employees: [{ id: 'a', name: 'x' }] }, 'employees.0.id: must be a number'],
    // Both stores must take the same file: PostgreSQL cannot keep U+0000.
    [{ employees: [{ id: 1, name: 'A\u0000B' }] }, 'employees.0.name: must not contain U+0000'],
    [
      { employees: [{ id: 1, name: 'A', role: '\ud800' }] },
      'employees.0.role: must be valid Unicode text',
    ],
    [{ employees: [], extra: true }, 'unknown field extra'],
    [[], 'must be an object'],
  ])('%j is refused with "%s"', (input, message) => {
    expect(() => parseFixtures(input, 'my.json')).toThrow(message);
    expect(() => parseFixtures(input, 'my.json')).toThrow('Invalid fixtures in my.json');
  });
});
