/** The pure pieces of the client: the reconnect schedule, offer cards, addresses and headers. */
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { reconnectDelaySeconds } from '../src/client/backoff.js';
import {
  formatCountdown,
  formatDate,
  formatDuration,
  formatExpiry,
  formatTimeRange,
  renderCard,
  wrapText,
} from '../src/client/card.js';
import { socketUrl } from '../src/client/connection.js';
import { parseHeaders, resolveEndpoints } from '../src/client/endpoints.js';
import { localTimestamp } from '../src/client/session.js';

describe('the reconnect schedule', () => {
  it('is 2, 4, 8, 16, then 30 s for every later attempt, as the app does', () => {
    const delays = Array.from({ length: 10 }, (_, i) => reconnectDelaySeconds(i + 1));
    expect(delays).toEqual([2, 4, 8, 16, 30, 30, 30, 30, 30, 30]);
  });
});

describe('offer cards', () => {
  it('spells out the date', () => {
    expect(formatDate('2026-01-20')).toBe('Tue 20 Jan 2026');
    expect(formatDate('soon')).toBe('soon');
  });

  it('gives the length of a shift, overnight included', () => {
    expect(formatDuration('09:00', '17:00')).toBe('8 h');
    expect(formatDuration('09:15', '10:00')).toBe('45 min');
    expect(formatDuration('22:00', '07:30')).toBe('9 h 30 min');
    expect(formatTimeRange('22:00', '07:00')).toBe('22:00-07:00 (9 h, overnight)');
    expect(formatTimeRange('9am', '5pm')).toBe('9am-5pm');
  });

  it('counts down to an expiry', () => {
    const now = Date.parse('2026-01-14T15:30:00Z');
    expect(formatExpiry('2026-01-14T15:44:30Z', now)).toMatch(/^in 14:30, at \d\d:\d\d:\d\d$/);
    expect(formatExpiry('2026-01-14T17:35:00Z', now)).toMatch(/^in 2 h 5 min, at \d\d:\d\d$/);
    expect(formatExpiry('2026-01-14T15:00:00Z', now)).toBe('expired');
    expect(formatExpiry('2026-01-14T15:30:04.200Z', now)).toMatch(/^in 0:05, at \d\d:\d\d:\d\d$/);
    // 90 s: the card says what the prompt's countdown says, not "2 min".
    const left = formatExpiry('2026-01-14T15:31:30Z', now);
    expect(left).toMatch(new RegExp(`^in ${formatCountdown(90_000)},`));
    expect(left).toMatch(/^in 1:30,/);
  });

  it('shows every field the app shows, and leaves out absent ones', () => {
    const plain = new Chalk({ level: 0 });
    const card = renderCard(
      {
        shift_id: 456,
        date: '2026-01-20',
        start_time: '09:00',
        end_time: '17:00',
        location_name: 'Outreach Center',
        client_name: null,
        service_type: 'Home Care',
        description: 'Test shift offer from backend',
      },
      plain,
    );
    expect(card.split('\n')).toEqual([
      `┌─ Shift 456 ${'─'.repeat(47)}`,
      '│ When    Tue 20 Jan 2026  09:00-17:00 (8 h)',
      '│ Where   Outreach Center',
      '│ Service Home Care',
      '│ Details Test shift offer from backend',
      `└${'─'.repeat(59)}`,
      '',
    ]);
  });

  it('marks an urgent shift with a badge that reads without colour, and in white on red with it', () => {
    const offer = {
      shift_id: 457,
      date: '2026-01-20',
      start_time: '09:00',
      end_time: '17:00',
      priority: 'urgent',
    };
    const plain = renderCard(offer, new Chalk({ level: 0 }), Date.now(), 60).split('\n');
    expect(plain[0]).toBe(`┌─ Shift 457 ─ URGENT ${'─'.repeat(38)}`);
    expect(plain[0]).toHaveLength(60);
    const coloured = renderCard(offer, new Chalk({ level: 1 }), Date.now(), 60);
    expect(coloured).toContain('\u001b[41m\u001b[37m\u001b[1m URGENT ');
    // A normal offer (absent or `normal`) has no badge.
    for (const priority of [undefined, 'normal']) {
      const card = renderCard({ ...offer, priority }, new Chalk({ level: 1 }), Date.now(), 60);
      expect(card).not.toContain('URGENT');
    }
  });

  it('fits the terminal, wrapping long values inside the box under their label', () => {
    const plain = new Chalk({ level: 0 });
    const offer = {
      shift_id: 458,
      date: '2026-01-20',
      start_time: '09:00',
      end_time: '17:00',
      location_name: 'Maple Grove Care Home, Willow Wing, second floor, east corridor',
      description: `Assist residents with washing and dressing; ${'x'.repeat(70)} then breakfast.`,
    };
    for (const columns of [40, 60, 120]) {
      const lines = renderCard(offer, plain, Date.now(), columns).trimEnd().split('\n');
      const width = Math.min(columns, 80);
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
      expect(lines.at(-1)).toBe(`└${'─'.repeat(width - 1)}`);
      // Every line between the borders is inside the box.
      for (const line of lines.slice(1, -1)) expect(line.startsWith('│ ')).toBe(true);
      const text = lines
        .filter((l) => l.startsWith('│ '))
        .map((l) => l.slice(10))
        .join(' ');
      expect(text.replace(/ /g, '')).toContain(offer.description.replace(/ /g, ''));
    }
    const narrow = renderCard(offer, plain, Date.now(), 40).split('\n');
    const where = narrow.indexOf('│ Where   Maple Grove Care Home, Willow');
    expect(where).toBeGreaterThan(0);
    expect(narrow.slice(where + 1, where + 3)).toEqual([
      '│         Wing, second floor, east',
      '│         corridor',
    ]);
    expect(wrapText('a bb ccc', 4)).toEqual(['a bb', 'ccc']);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
});

describe('text from a server', () => {
  it('cannot break a card or drive the terminal: control characters become spaces', () => {
    const card = renderCard(
      {
        shift_id: 457,
        date: '2026-01-20',
        start_time: '09:00',
        end_time: '17:00',
        location_name: 'Ward\r\n3',
        description: 'line1\nline2\u001b[31mred\u0007\u009b2J',
      },
      new Chalk({ level: 0 }),
    );
    const lines = card.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[2]).toBe('│ Where   Ward 3');
    expect(lines[3]).toBe('│ Details line1 line2 [31mred 2J');
    for (const control of ['\u001b', '\u0007', '\u009b', '\r']) expect(card).not.toContain(control);
  });
});

describe('addresses', () => {
  it('derives wsUrl and apiUrl from the server URL as the app config does', () => {
    expect(resolveEndpoints({})).toEqual({
      wsUrl: 'ws://localhost:8000/ws',
      apiUrl: 'http://localhost:8000/api',
    });
    expect(resolveEndpoints({ url: 'https://shifts.example.com/' })).toEqual({
      wsUrl: 'wss://shifts.example.com/ws',
      apiUrl: 'https://shifts.example.com/api',
    });
    expect(
      resolveEndpoints({ url: 'http://a:1', wsUrl: 'wss://b/socket/', apiUrl: 'https://c/v2' }),
    ).toEqual({ wsUrl: 'wss://b/socket', apiUrl: 'https://c/v2' });
  });

  it('takes either address serve prints as --url, and one base alone names the server for both', () => {
    const both = { wsUrl: 'ws://h:8000/ws', apiUrl: 'http://h:8000/api' };
    expect(resolveEndpoints({ url: 'http://h:8000/api' })).toEqual(both);
    expect(resolveEndpoints({ url: 'ws://h:8000/ws/' })).toEqual(both);
    expect(resolveEndpoints({ wsUrl: 'ws://h:8000/ws' })).toEqual(both);
    expect(resolveEndpoints({ apiUrl: 'http://h:8000/api' })).toEqual(both);
    expect(resolveEndpoints({ apiUrl: 'https://h/pre/api' })).toEqual({
      wsUrl: 'wss://h/pre/ws',
      apiUrl: 'https://h/pre/api',
    });
  });

  it('refuses what is not a URL of the right kind', () => {
    expect(() => resolveEndpoints({ url: 'localhost:8000' })).toThrow(/--url must start with/);
    expect(() => resolveEndpoints({ url: 'nope' })).toThrow('--url is not a URL: nope');
    expect(() => resolveEndpoints({ wsUrl: 'http://x/ws' })).toThrow(/--ws-url must start with ws/);
  });

  it('adds the token to the socket URL as the app does', () => {
    expect(socketUrl('ws://h/ws/', 123)).toBe('ws://h/ws/123');
    expect(socketUrl('ws://h/ws', 123, 'a b')).toBe('ws://h/ws/123?token=a%20b');
  });

  it('parses -H headers and refuses malformed ones', () => {
    expect(parseHeaders(['X-Env: staging', 'Cookie: a=b; c=d'])).toEqual({
      'X-Env': 'staging',
      Cookie: 'a=b; c=d',
    });
    expect(() => parseHeaders(['no colon'])).toThrow('-H expects "Name: value"');
    expect(() => parseHeaders([': empty'])).toThrow('-H expects');
    expect(() => parseHeaders(['X-A: a\nb'])).toThrow('cannot hold control characters');
    expect(parseHeaders(['X-A: a\tb'])).toEqual({ 'X-A': 'a\tb' });
  });

  it('stamps answers with the local time and no zone, like the app', () => {
    expect(localTimestamp(new Date())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
  });
});
