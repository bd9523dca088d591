/**
 * The dashboard's pure pieces, without a browser: the stream's parser and schedule, forms' ids,
 * the stats' throttle, push tokens shortened.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JournalEntry } from '../src/protocol/schemas.js';
import { ApiError } from '../src/web/api.js';
import {
  describeError,
  matches,
  parseIds,
  shortToken,
  throttle,
} from '../src/web/dashboard-model.js';
import { parseEvents, streamDelaySeconds } from '../src/web/events.js';

describe('parseEvents', () => {
  it('reads events split anywhere across chunks, and skips comments', () => {
    const text =
      ': keep-alive\n\nid: 42\nevent: journal\ndata: {"id":42}\n\nevent: hello\ndata: {"last_id":1}\n\nid: 43\nevent: jou';
    let rest = '';
    const seen: unknown[] = [];
    for (let i = 0; i < text.length; i += 7) {
      const parsed = parseEvents(rest + text.slice(i, i + 7));
      rest = parsed.rest;
      seen.push(...parsed.events);
    }
    expect(seen).toEqual([
      { event: 'journal', data: { id: 42 }, id: 42 },
      { event: 'hello', data: { last_id: 1 }, id: undefined },
    ]);
    expect(rest).toBe('id: 43\nevent: jou');
  });

  it('takes CRLF line ends, multi-line data, and drops what is not JSON', () => {
    const { events } = parseEvents('event: a\r\ndata: [1,\r\ndata: 2]\r\n\r\ndata: nope\n\n');
    expect(events).toEqual([{ event: 'a', data: [1, 2], id: undefined }]);
  });
});

it('reconnects the stream after 1, 2, 4, 8, then every 15 s', () => {
  expect([1, 2, 3, 4, 5, 6, 50].map(streamDelaySeconds)).toEqual([1, 2, 4, 8, 15, 15, 15]);
});

it('reads employee id lists as typed in a form', () => {
  expect(parseIds(' 101, 102  103,')).toEqual([101, 102, 103]);
  expect(parseIds('')).toEqual([]);
  expect(parseIds('101, x')).toBe('"x" is not an employee id');
  expect(parseIds('0')).toBe('"0" is not an employee id');
  expect(parseIds('1.5')).toBe('"1.5" is not an employee id');
});

it('filters journal lines, hiding GET requests unless asked', () => {
  const line = (name: string, kind: 'push' | 'request', empId: number): JournalEntry => ({
    id: 1,
    time: '2026-12-01T00:00:00.000Z',
    kind,
    emp_id: empId,
    shift_id: 7,
    name,
    outcome: '200',
    detail: null,
  });
  const all = { empId: undefined, shiftId: undefined, kind: undefined, reads: false };
  expect(matches(line('GET /api/admin/shifts', 'request', 1), all)).toBe(false);
  expect(matches(line('GET /api/admin/shifts', 'request', 1), { ...all, reads: true })).toBe(true);
  expect(matches(line('POST /api/admin/shifts', 'request', 1), all)).toBe(true);
  expect(matches(line('shift_offer', 'push', 1), { ...all, empId: 2 })).toBe(false);
  expect(matches(line('shift_offer', 'push', 1), { ...all, kind: 'request' })).toBe(false);
  expect(matches(line('shift_offer', 'push', 1), { ...all, shiftId: 7, kind: 'push' })).toBe(true);
});

it('says which fields a refused body had wrong', () => {
  const refused = new ApiError(400, 'E_INVALID_BODY', 'Invalid request body', {
    issues: [{ path: 'date', message: 'is not a real calendar date' }],
  });
  expect(describeError(refused)).toBe('Invalid request body: date is not a real calendar date');
  expect(describeError(new ApiError(409, 'E_SHIFT_TAKEN', 'Shift 1 is taken.'))).toBe(
    'Shift 1 is taken.',
  );
});

describe('throttle (the stats refresh)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A run that resolves when the test says so, counting its starts. */
  function runs() {
    const finish: (() => void)[] = [];
    const run = vi.fn(() => new Promise<void>((resolve) => finish.push(resolve)));
    const done = async () => {
      finish.shift()?.();
      await vi.advanceTimersByTimeAsync(0);
    };
    return { run, done };
  }

  it('runs the first request at once and a burst at most once per interval', async () => {
    vi.useFakeTimers();
    const { run, done } = runs();
    const t = throttle(run, 2000);
    t.request();
    await vi.advanceTimersByTimeAsync(0);
    expect(run).toHaveBeenCalledTimes(1);
    await done();
    for (let i = 0; i < 10; i++) t.request();
    await vi.advanceTimersByTimeAsync(1999);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(2);
    await done();
    // Quiet: nothing more runs by itself (no polling).
    await vi.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('runs again after a run under way when asked meanwhile; now() does not wait; stop() ends it', async () => {
    vi.useFakeTimers();
    const { run, done } = runs();
    const t = throttle(run, 2000);
    t.now();
    t.request();
    t.request();
    await vi.advanceTimersByTimeAsync(5000);
    expect(run).toHaveBeenCalledTimes(1);
    await done();
    await vi.advanceTimersByTimeAsync(0);
    expect(run).toHaveBeenCalledTimes(2);
    await done();
    t.now();
    expect(run).toHaveBeenCalledTimes(3);
    await done();
    t.request();
    t.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(3);
  });
});

describe('shortToken', () => {
  it('keeps short tokens whole and cuts long ones to their ends', () => {
    expect(shortToken('abcdefgh')).toBe('abcdefgh');
    expect(shortToken('fGx3kZ0pR1eXample:APA91bH-EXAMPLE')).toBe('fGx3kZ0p…XAMPLE');
  });
});
