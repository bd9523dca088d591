/**
 * `shiftctl stats` against a real server whose clock the test moves: once through the real
 * binary (exit code, stdout and stderr apart), the rest in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanSeconds, percent } from '../src/cli/stats.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { run } from './cli-harness.js';
import { manualClock, post, respond, startServer } from './helpers.js';
import { inProcess } from './in-process.js';

const SHIFT = { date: '2026-03-05', start_time: '22:00', end_time: '07:00' };

let server: ShiftServer;
beforeAll(async () => {
  const clock = manualClock(Date.parse('2026-01-14T15:30:00.000Z'));
  server = await startServer({ clock });
  // Maple Grove to 11 and 12: 12 rejects after 30 s, 11 accepts after 90 s. Elm House to 12.
  const a = await post(server, '/api/admin/shifts', {
    ...SHIFT,
    location_name: 'Maple Grove',
    offer_to: [11, 12],
  });
  clock.advance(30_000);
  await respond(server, 12, a.body.shift.id, 'rejected');
  clock.advance(60_000);
  await respond(server, 11, a.body.shift.id, 'accepted');
  await post(server, '/api/admin/shifts', { ...SHIFT, location_name: 'Elm House', offer_to: [12] });
});
afterAll(async () => {
  await server.close();
});

describe('shiftctl stats', () => {
  it('prints the offers and shifts tables on stdout, through the real binary', async () => {
    const exit = await run('stats', '--url', server.url);
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    const lines = exit.stdout.split('\n');
    expect(lines[0]).toBe('Offers sent all time; answer times median and p90');
    // Without --by, the first column has no title: its one row is everything.
    expect(lines[1]?.split(/\s{2,}/)).toEqual([
      '',
      'SENT',
      'DELIVERED',
      'ANSWERED',
      'ACCEPTED',
      'REJECTED',
      'EXPIRED',
      'ANSWER RATE',
      'MEDIAN',
      'P90',
    ]);
    // 30 s and 90 s: the median 60 s, p90 30 + 0.9 * 60 = 84 s.
    expect(lines[2]?.split(/\s{2,}/)).toEqual([
      'all',
      '3',
      '0',
      '2',
      '1',
      '1',
      '0',
      '66.7%',
      '1 m 00 s',
      '1 m 24 s',
    ]);
    const shifts = lines.slice(lines.findIndex((l) => l.startsWith('Shifts')));
    expect(shifts[0]).toBe('Shifts created all time; first accept and fill times median and p90');
    expect(shifts[2]?.split(/\s{2,}/)).toEqual([
      'all',
      '2',
      '1',
      '50.0%',
      '0',
      '0',
      '1',
      '1 m 30 s',
      '1 m 30 s',
      '1 m 30 s',
      '1 m 30 s',
    ]);
  });

  it('groups with --by, a row per key and the total last', async () => {
    const exit = await inProcess('stats', '--url', server.url, '--by', 'location');
    expect(exit.code).toBe(0);
    const rows = exit.stdout.split('\n').map((l) => l.split(/\s{2,}/)[0]);
    expect(rows.slice(1, 5)).toEqual(['LOCATION', 'Maple Grove', 'Elm House', 'total']);
    const byEmployee = await inProcess('stats', '--url', server.url, '--by', 'employee');
    const lines = byEmployee.stdout.split('\n');
    expect(lines[1]?.split(/\s{2,}/).slice(0, 3)).toEqual(['EMPLOYEE', 'NAME', 'SENT']);
    expect(lines[2]?.split(/\s{2,}/).slice(0, 3)).toEqual(['12', '-', '2']);
    // Employees have no shift figures: the shift table has the total alone.
    const shifts = lines.slice(lines.findIndex((l) => l.startsWith('Shifts')) + 2);
    expect(shifts.filter((l) => l !== '').map((l) => l.split(/\s{2,}/)[0])).toEqual(['total']);
  });

  it('prints one JSON object a line with --json: the total, then each group', async () => {
    const exit = await inProcess(
      'stats',
      '--url',
      server.url,
      '--by',
      'location',
      '--from',
      '2026-01-14',
      '--json',
    );
    expect(exit.code).toBe(0);
    const lines = exit.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.type, l.key])).toEqual([
      ['total', undefined],
      ['group', 'Maple Grove'],
      ['group', 'Elm House'],
    ]);
    expect(lines[0]).toMatchObject({
      from: '2026-01-14T00:00:00.000Z',
      to: null,
      offers: { sent: 3, response_rate: 0.6667, response_seconds: { median: 60, p90: 84 } },
      shifts: { offered: 2, filled: 1, fill_rate: 0.5 },
    });
    expect(lines[1]).toMatchObject({ by: 'location', offers: { sent: 2 } });
  });

  it('refuses a malformed window or grouping as a usage error', async () => {
    const word = await inProcess('stats', '--url', server.url, '--from', 'yesterday');
    expect(word.code).toBe(2);
    expect(word.stderr).toContain('Expected a date (2026-11-01)');
    const by = await inProcess('stats', '--url', server.url, '--by', 'team');
    expect(by.code).toBe(2);
    expect(by.stderr).toContain('Expected one of location, client, service_type, employee');
  });

  it('refuses a window the server would refuse before asking it, with exit 2', async () => {
    // No server at this address: a request would be exit 3.
    const nowhere = 'http://127.0.0.1:1';
    const inverted = await inProcess(
      'stats',
      '--url',
      nowhere,
      '--from',
      '2026-12-05',
      '--to',
      '2026-12-01',
      '--json',
    );
    expect(inverted.code).toBe(2);
    expect(inverted.stderr).toBe(
      'shiftctl: --to 2026-12-01 must be after --from 2026-12-05: the window would be empty.\n',
    );
    expect(JSON.parse(inverted.stdout)).toEqual({
      error: {
        code: 'E_USAGE',
        message: '--to 2026-12-01 must be after --from 2026-12-05: the window would be empty.',
      },
    });
    const day = await inProcess('stats', '--url', nowhere, '--from', '2026-02-30');
    expect(day.code).toBe(2);
    expect(day.stderr).toMatch(/^shiftctl: --from 2026-02-30 must be a date \(YYYY-MM-DD\)/);
    // A date --to is its whole day: the same day on both sides is a window.
    const oneDay = await inProcess(
      'stats',
      '--url',
      server.url,
      '--from',
      '2026-01-14',
      '--to',
      '2026-01-14',
    );
    expect(oneDay.code).toBe(0);
  });
});

describe('stats formatting', () => {
  it.each([
    [null, ''],
    [0.016, '16 ms'],
    [48.24, '48.2 s'],
    [371.2, '6 m 11 s'],
    [3599.6, '1 h 00 m'],
    [7_530, '2 h 06 m'],
  ])('shows %s seconds as "%s"', (seconds, text) => {
    expect(humanSeconds(seconds)).toBe(text);
  });

  it('shows rates as percentages to one place', () => {
    expect([percent(null), percent(0), percent(0.6667), percent(1)]).toEqual([
      '',
      '0.0%',
      '66.7%',
      '100.0%',
    ]);
  });
});
