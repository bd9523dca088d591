/**
 * Processes the bench (and the tests that share its rigs) start: free ports, CPU pinning,
 * waiting for a listener, and stopping a child for sure.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** The CPUs this process may run on (Linux), e.g. `0-1` or `0,2-3`; empty when unknown. */
export function allowedCpus(): number[] {
  try {
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(
      readFileSync('/proc/self/status', 'utf8'),
    )?.[1];
    return (list ?? '').split(',').flatMap((part) => {
      const [from, to = from] = part.split('-').map(Number);
      if (from === undefined || to === undefined) return [];
      if (!Number.isInteger(from) || !Number.isInteger(to) || to < from) return [];
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
  } catch {
    return [];
  }
}

/** Pins this process (all its threads) to one CPU; false when `taskset` is not there. */
export function pinSelf(cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/** A command line run on one CPU (with `taskset`), or as it is without a CPU. */
export function pinnedLine(line: string[], cpu: number | undefined): [string, ...string[]] {
  const full = cpu === undefined ? line : ['taskset', '-c', String(cpu), ...line];
  const [command, ...args] = full;
  if (command === undefined) throw new Error('empty command line');
  return [command, ...args];
}

/** A TCP port free on loopback right now (choose it just before use). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Waits until something accepts connections on `port`, failing if `child` exits first. */
export async function waitForPort(port: number, child: ChildProcess, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the process exited (${child.exitCode ?? child.signalCode})`);
    }
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await delay(50);
  }
  throw new Error(`nothing listened on ${port} within ${ms} ms`);
}

/** Sends `signal`, and SIGKILL if the child has not exited within `graceMs`. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((res) => child.once('exit', res));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    exited,
    new Promise<void>((res) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        res();
      }, graceMs);
    }),
  ]);
  clearTimeout(timer);
  await exited;
}

/** The processes whose command name is `name` (Linux: /proc/<pid>/comm); none elsewhere. */
export function pidsNamed(name: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
