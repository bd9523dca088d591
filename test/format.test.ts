import { describe, expect, it } from 'vitest';
import { localDateTime, statusAndCode, timeRange } from '../src/cli/format.js';
import { createApiClient } from '../src/client/api.js';
import { ApiError } from '../src/errors.js';
import { isoTime } from '../src/offers/views.js';
import { startServer } from './helpers.js';

describe('isoTime', () => {
  it('spells every time exactly as Date#toISOString, within a second and across them', () => {
    const start = Date.UTC(2026, 0, 20, 8, 59, 58, 990);
    const times: number[] = [];
    // Runs of times within one second (the cached path), each millisecond width, and jumps
    // back and forth between seconds, days and years.
    for (let i = 0; i < 3000; i++) times.push(start + i);
    for (let i = 0; i < 2000; i++) times.push(start + ((i * 7919) % 5000) - 2500);
    times.push(0, -1, -999, -1000, -1001, 1, 999, 1000, 86_399_999, 86_400_000);
    times.push(Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1));
    times.push(Date.UTC(10000, 0, 1) + 5, start + 0.5, start + 1.25, start + 1);
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('refuses an impossible time as Date does', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});

describe('localDateTime', () => {
  it('shows a server time as local YYYY-MM-DD HH:MM', () => {
    const at = new Date(2026, 0, 14, 15, 30, 42);
    expect(localDateTime(at.toISOString())).toBe('2026-01-14 15:30');
  });

  it('leaves what it cannot parse as it is, and an absent time empty', () => {
    expect(localDateTime('yesterday')).toBe('yesterday');
    expect(localDateTime(null)).toBe('');
  });
});

describe('timeRange', () => {
  it('joins start and end', () => {
    expect(timeRange({ start_time: '22:00', end_time: '07:00' })).toBe('22:00-07:00');
  });
});

describe('API errors', () => {
  it("is what the server said, without the API client's request line", async () => {
    const server = await startServer();
    try {
      const api = createApiClient({ apiUrl: server.apiUrl });
      const err = await api
        .respond({ emp_id: 1, shift_id: 2, response: 'accepted' })
        .catch((e) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err.serverMessage).toBe('Shift 2 was never offered to employee 1.');
      expect(err.message).toBe(
        'Shift 2 was never offered to employee 1. (404 E_OFFER_NOT_FOUND, POST /shift_offer/respond)',
      );
      expect(statusAndCode(err)).toBe('404 E_OFFER_NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  it('keeps a message from a server that sent no code', () => {
    const err = new ApiError(404, undefined, 'Not Found', 'GET /connections');
    expect(err.message).toBe('Not Found (404, GET /connections)');
    expect(statusAndCode(err)).toBe('404');
  });
});
