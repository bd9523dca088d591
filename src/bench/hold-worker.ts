/**
 * One generator process of the bench's multi-instance hold (forked by suite.ts): a process may
 * open 20,000 files here, so 50,000 sockets take several. It connects employees
 * `first .. first + count - 1` to one instance, says how many are open, then times the arrival
 * of one shift on all of them. Talks to its parent over IPC:
 *   parent -> { type: 'watch', shiftId } | { type: 'report' } | { type: 'close' }
 *   worker -> { type: 'connected', ok, failed } | { type: 'arrived', count, last }
 * `last` is the wall-clock time (ms, sub-millisecond) of the last arrival, comparable across
 * processes.
 */
import { WebSocket } from 'ws';
import { pool } from './generator.js';

interface Job {
  wsUrl: string;
  first: number;
  count: number;
  /** Three octets, e.g. "127.10.0": sockets bind to SOURCE_ADDRESSES addresses in it. */
  sourceNet?: string;
}

/**
 * A socket bound to a source address before it connects takes its port from a search of the
 * ports bound to that address, which slows as they fill: 15,000 sockets from one address opened
 * at about 1,100 a second, from 64 addresses at about 7,300.
 */
const SOURCE_ADDRESSES = 64;

const job = JSON.parse(process.env.SHIFTCTL_HOLD_JOB ?? '{}') as Job;
const send = (message: unknown) => process.send?.(message);
const sockets: WebSocket[] = [];
const now = () => performance.timeOrigin + performance.now();
let watching: number | undefined;
/** Why connections failed, by error code or message. */
const errors = new Map<string, number>();
let arrived = 0;
let last = 0;

function report(): void {
  send({ type: 'arrived', count: arrived, last });
}

function open(empId: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${job.wsUrl.replace(/\/+$/, '')}/${empId}`, {
      perMessageDeflate: false,
      ...(job.sourceNet
        ? { localAddress: `${job.sourceNet}.${1 + (empId % SOURCE_ADDRESSES)}` }
        : {}),
    });
    ws.on('open', () => {
      sockets.push(ws);
      resolve(true);
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.includes('"ping"')) {
        ws.send('{"type":"pong"}');
        return;
      }
      if (watching === undefined || !text.includes('"shift_offer"')) return;
      const m = JSON.parse(text) as { type?: string; shift_id?: number };
      if (m.type !== 'shift_offer' || m.shift_id !== watching) return;
      arrived++;
      last = now();
      if (arrived === sockets.length) report();
    });
    ws.on('error', (err) => {
      const why = (err as NodeJS.ErrnoException).code ?? err.message;
      errors.set(why, (errors.get(why) ?? 0) + 1);
      resolve(false);
    });
    ws.on('close', () => resolve(false));
  });
}

process.on('message', (message: { type: string; shiftId?: number }) => {
  if (message.type === 'watch') {
    watching = message.shiftId;
    arrived = 0;
    last = 0;
  } else if (message.type === 'report') {
    report();
  } else if (message.type === 'close') {
    process.exit(0);
  }
});
// The parent went away: nothing left to report to.
process.on('disconnect', () => process.exit(0));

// Those that failed are tried once more after the others, as a real client would reconnect.
let failedIds: number[] = [];
await pool(job.count, 200, async (i) => {
  if (!(await open(job.first + i))) failedIds.push(job.first + i);
});
const retried = failedIds;
failedIds = [];
await pool(retried.length, 50, async (i) => {
  const empId = retried[i] as number;
  if (!(await open(empId))) failedIds.push(empId);
});
send({
  type: 'connected',
  ok: sockets.length,
  failed: failedIds.length,
  retried: retried.length,
  errors: Object.fromEntries(errors),
});
