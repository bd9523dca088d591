/**
 * Connections held across several instances, and one shift broadcast to all of them: one
 * generator process per instance (hold-worker.ts), each connecting straight to its instance
 * (HAProxy holds two files per connection, and a process here may open 20,000), from
 * loopback source addresses of its own. The broadcast goes through the load balancer.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./hold-worker.js', import.meta.url));

export interface HoldAcrossResult {
  /** Sockets open at once, all instances together. */
  held: number;
  /** Not open after a second try, and how many needed one (and why they failed). */
  failed: number;
  retried: number;
  errors: Record<string, number>;
  connectSeconds: number;
  /** The broadcast: employees it reached, and the last arrival after the request was sent. */
  arrived: number;
  lastArrivalMs: number;
}

interface WorkerMessage {
  type: string;
  ok?: number;
  failed?: number;
  retried?: number;
  errors?: Record<string, number>;
  count?: number;
  last?: number;
}

function next(child: ChildProcess, type: string, ms: number): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no "${type}" from a hold worker within ${ms} ms`));
    }, ms);
    const onMessage = (m: WorkerMessage) => {
      if (m.type !== type) return;
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`a hold worker exited (${code}) before "${type}"`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function holdAcross(options: {
  /** Each instance's WebSocket base, e.g. ws://127.0.0.1:41234/ws */
  instances: readonly string[];
  /** Through the load balancer, e.g. http://127.0.0.1:40000/api */
  apiUrl: string;
  total: number;
  firstEmpId: number;
  shiftId: number;
  progress?: (line: string) => void;
}): Promise<HoldAcrossResult> {
  const say = options.progress ?? (() => {});
  const per = Math.ceil(options.total / options.instances.length);
  const workers: ChildProcess[] = [];
  try {
    const start = performance.now();
    say(`hold: ${options.total} connections across ${options.instances.length} instances`);
    const connected = options.instances.map((wsUrl, i) => {
      const first = options.firstEmpId + i * per;
      const count = Math.max(0, Math.min(per, options.total - i * per));
      const child = fork(WORKER, [], {
        env: {
          ...process.env,
          SHIFTCTL_HOLD_JOB: JSON.stringify({
            wsUrl,
            first,
            count,
            sourceNet: `127.${10 + i}.0`,
          }),
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      workers.push(child);
      return next(child, 'connected', 300_000);
    });
    const counts = await Promise.all(connected);
    const connectSeconds = (performance.now() - start) / 1000;
    const held = counts.reduce((a, m) => a + (m.ok ?? 0), 0);
    const failed = counts.reduce((a, m) => a + (m.failed ?? 0), 0);
    const retried = counts.reduce((a, m) => a + (m.retried ?? 0), 0);
    const errors: Record<string, number> = {};
    for (const m of counts) {
      for (const [why, n] of Object.entries(m.errors ?? {})) errors[why] = (errors[why] ?? 0) + n;
    }
    say(
      `hold: ${held} open in ${connectSeconds.toFixed(1)} s (${retried} needed a second try, ${failed} failed it${retried > 0 ? `: ${JSON.stringify(errors)}` : ''}); broadcasting`,
    );

    for (const w of workers) w.send({ type: 'watch', shiftId: options.shiftId });
    const arrivals = workers.map((w) => next(w, 'arrived', 60_000));
    const sent = performance.timeOrigin + performance.now();
    const last = options.firstEmpId + options.total - 1;
    const res = await fetch(
      `${options.apiUrl}/test/broadcast/${options.firstEmpId}/${last}?shift_id=${options.shiftId}`,
      { method: 'POST' },
    );
    await res.text();
    if (res.status !== 200) throw new Error(`the broadcast answered ${res.status}`);
    // Workers that got everything report by themselves; ask the others after the wait.
    const reports = await Promise.all(
      arrivals.map((a, i) =>
        a.catch(() => {
          const w = workers[i] as ChildProcess;
          const asked = next(w, 'arrived', 5000);
          w.send({ type: 'report' });
          return asked;
        }),
      ),
    );
    const arrived = reports.reduce((a, m) => a + (m.count ?? 0), 0);
    const lastAt = Math.max(...reports.map((m) => m.last ?? 0));
    return {
      held,
      failed,
      retried,
      errors,
      connectSeconds,
      arrived,
      lastArrivalMs: lastAt > 0 ? Math.round((lastAt - sent) * 10) / 10 : Number.NaN,
    };
  } finally {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            w.once('exit', () => resolve());
            if (w.connected) w.send({ type: 'close' });
            else w.kill('SIGKILL');
            setTimeout(() => w.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}
