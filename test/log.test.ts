/** The operator's log: readable lines, colour only when asked, JSON lines for machines. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/server/log.js';

function sink() {
  const lines: string[] = [];
  return { lines, write: (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)) };
}

const at = () => new Date('2026-01-14T15:30:00.123Z');

describe('the log', () => {
  it('writes one readable line per event, without colour unless asked', () => {
    const out = sink();
    const log = createLogger({ out, err: sink(), clock: at });
    log.event({ event: 'offer', shift_id: 456, emp_id: 123, status: 'sent', devices: 1 });
    log.flush();
    expect(out.lines).toEqual([
      '15:30:00.123 offer         shift_id=456 emp_id=123 status=sent devices=1',
    ]);
  });

  it('colours lines when asked', () => {
    const out = sink();
    const log = createLogger({ out, color: true, clock: at });
    log.event({ event: 'assigned', shift_id: 1, emp_id: 2 });
    log.flush();
    expect(out.lines[0]).toContain('\u001b[');
  });

  it('writes one JSON object per line in json format, warnings to the error stream', () => {
    const out = sink();
    const err = sink();
    const log = createLogger({ format: 'json', out, err, clock: at });
    log.event({ event: 'answer', shift_id: 1, emp_id: 2, response: 'accepted' });
    log.warn('slow consumer', { emp_id: 2 });
    log.flush();
    expect(out.lines.map((l) => JSON.parse(l))).toEqual([
      {
        time: '2026-01-14T15:30:00.123Z',
        level: 'info',
        event: 'answer',
        shift_id: 1,
        emp_id: 2,
        response: 'accepted',
      },
    ]);
    expect(JSON.parse(err.lines[0] ?? '')).toMatchObject({
      level: 'warn',
      message: 'slow consumer',
    });
  });

  it('batches lines into one write per turn of the event loop', async () => {
    const writes: string[] = [];
    const log = createLogger({ out: { write: (c: string) => writes.push(c) }, clock: at });
    log.event({ event: 'connect', emp_id: 1 });
    log.event({ event: 'connect', emp_id: 2 });
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('drops info lines when quiet', () => {
    const out = sink();
    const err = sink();
    const log = createLogger({ out, err, level: 'warn', clock: at });
    log.event({ event: 'connect', emp_id: 1 });
    log.error('boom');
    log.flush();
    expect(out.lines).toEqual([]);
    expect(err.lines).toHaveLength(1);
  });
});
