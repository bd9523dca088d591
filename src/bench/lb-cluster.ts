/**
 * Three `shiftctl serve` instances on one PostgreSQL schema and Redis, behind HAProxy running
 * the shipped docs/haproxy.cfg with only its ports changed. Used by `npm run bench` (its
 * multi-instance target) and by test/load-balancer.test.ts, so both prove the shipped file.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { freePort, pinnedLine, stopChild, waitForPort } from './processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'shiftctl.js');
/** The shipped configuration (the README links it). */
export const HAPROXY_CFG = join(ROOT, 'docs', 'haproxy.cfg');
/** The addresses docs/haproxy.cfg listens on and forwards to. */
const SHIPPED = { frontend: 8000, stats: 8404, servers: [8001, 8002, 8003] } as const;
/** How much of a child's output is kept for an error message. */
const KEEP_OUTPUT = 16_384;

/** The haproxy binary, or undefined when it is not installed. */
export function haproxyBinary(): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on PATH
  }
  return ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));
}

export interface LbPorts {
  frontend: number;
  stats: number;
  /** One port per `server` line, in order. */
  servers: readonly number[];
}

/**
 * The shipped configuration with its ports replaced, and nothing else: only the `bind` and
 * `server` addresses change. Throws if the file no longer has the addresses it shipped with.
 */
export function haproxyConfig(text: string, ports: LbPorts): string {
  if (ports.servers.length !== SHIPPED.servers.length) {
    throw new Error(`docs/haproxy.cfg has ${SHIPPED.servers.length} servers`);
  }
  const binds: number[] = [];
  const servers: number[] = [];
  const out = text.replace(
    /^(\s*(?:bind|server\s+\S+)\s+127\.0\.0\.1:)(\d+)\b/gm,
    (_all, head: string, port: string) => {
      const old = Number(port);
      if (head.trimStart().startsWith('bind')) {
        binds.push(old);
        if (old === SHIPPED.frontend) return `${head}${ports.frontend}`;
        if (old === SHIPPED.stats) return `${head}${ports.stats}`;
      } else {
        servers.push(old);
        const i = SHIPPED.servers.indexOf(old as 8001);
        const port = ports.servers[i];
        if (port !== undefined) return `${head}${port}`;
      }
      throw new Error(`docs/haproxy.cfg: unexpected address 127.0.0.1:${old}`);
    },
  );
  const want = [SHIPPED.frontend, SHIPPED.stats].join(',');
  if (binds.join(',') !== want || servers.join(',') !== SHIPPED.servers.join(',')) {
    throw new Error(
      `docs/haproxy.cfg should bind 127.0.0.1:${want} and forward to 127.0.0.1:${SHIPPED.servers.join(',')}; it binds ${binds.join(',')} and forwards to ${servers.join(',')}`,
    );
  }
  return out;
}

/** The tail of a child's stdout and stderr, for error messages. */
function collect(child: ChildProcess): () => string {
  let text = '';
  const add = (chunk: string) => {
    text = (text + chunk).slice(-KEEP_OUTPUT);
  };
  child.stdout?.setEncoding('utf8').on('data', add);
  child.stderr?.setEncoding('utf8').on('data', add);
  return () => text;
}

export interface ServeInstance {
  child: ChildProcess;
  port: number;
  url: string;
  /** The tail of what it printed. */
  output(): string;
}

/** Starts `serve --port 0 --log-format json ARGS` and waits for its "listening" line. */
export function startServe(
  args: readonly string[],
  options: { cwd: string; cpu?: number | undefined; timeoutMs?: number },
): Promise<ServeInstance> {
  const [command, ...rest] = pinnedLine(
    [process.execPath, BIN, 'serve', '--port', '0', '--log-format', 'json', ...args],
    options.cpu,
  );
  const child = spawn(command, rest, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  return new Promise((resolve, reject) => {
    let buffered = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`serve ${why}; it printed:\n${output()}`));
    };
    const timer = setTimeout(
      () => fail(`did not listen within ${options.timeoutMs ?? 30_000} ms`),
      options.timeoutMs ?? 30_000,
    );
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
    const onData = (chunk: string) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.includes('"event":"listening"'));
      if (!line) return;
      child.stdout?.off('data', onData);
      child.removeAllListeners('exit');
      clearTimeout(timer);
      const { url } = JSON.parse(line) as { url: string };
      resolve({ child, port: Number(new URL(url).port), url, output });
    };
    child.stdout?.on('data', onData);
  });
}

export interface ServerState {
  name: string;
  /** UP, DOWN, MAINT, ... as the stats page says. */
  status: string;
  /** L7OK, L4CON, L7STS, ... */
  check: string;
}

/** The state of each server of the `shiftctl` backend, from the stats page's CSV. */
export async function serverStates(statsPort: number): Promise<ServerState[]> {
  const res = await fetch(`http://127.0.0.1:${statsPort}/;csv`);
  const text = await res.text();
  const [header = '', ...rows] = text.trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  return rows
    .map((row) => row.split(','))
    .filter(
      (cells) =>
        cells[at('pxname')] === 'shiftctl' &&
        !['FRONTEND', 'BACKEND'].includes(cells[at('svname')] ?? ''),
    )
    .map((cells) => ({
      name: cells[at('svname')] ?? '',
      status: cells[at('status')] ?? '',
      check: cells[at('check_status')] ?? '',
    }));
}

/** Polls the stats page until `ready(states)` holds, or throws after `timeoutMs`. */
export async function waitForServers(
  statsPort: number,
  ready: (states: ServerState[]) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<ServerState[]> {
  const deadline = Date.now() + timeoutMs;
  let last: ServerState[] | string = 'no answer from the stats page';
  while (Date.now() < deadline) {
    try {
      const states = await serverStates(statsPort);
      if (ready(states)) return states;
      last = states;
    } catch (err) {
      last = (err as Error).message;
    }
    await delay(100);
  }
  throw new Error(`haproxy: ${what} not within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

/** Every server up, and checked (a passed /readyz, not just the initial state). */
export const allUp = (states: ServerState[]): boolean =>
  states.length > 0 && states.every((s) => s.status === 'UP' && s.check === 'L7OK');

export interface Haproxy {
  child: ChildProcess;
  /** The load balancer's own address, e.g. http://127.0.0.1:40123 */
  url: string;
  frontend: number;
  stats: number;
  output(): string;
}

/** HAProxy in the foreground (`-db`) on the shipped config, forwarding to `servers`. */
export async function startHaproxy(options: {
  servers: readonly number[];
  dir: string;
  cpu?: number | undefined;
}): Promise<Haproxy> {
  const bin = haproxyBinary();
  if (!bin) throw new Error('haproxy is not installed');
  const [frontend, stats] = [await freePort(), await freePort()];
  const file = join(options.dir, 'haproxy.cfg');
  writeFileSync(
    file,
    haproxyConfig(readFileSync(HAPROXY_CFG, 'utf8'), {
      frontend,
      stats,
      servers: options.servers,
    }),
  );
  const [command, ...args] = pinnedLine([bin, '-f', file, '-db'], options.cpu);
  const child = spawn(command, args, { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  try {
    await waitForPort(frontend, child);
    await waitForPort(stats, child);
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw new Error(`haproxy did not start: ${(err as Error).message}\n${output()}`);
  }
  return { child, url: `http://127.0.0.1:${frontend}`, frontend, stats, output };
}

export interface LbCluster {
  instances: ServeInstance[];
  haproxy: Haproxy;
  /** Through the load balancer. */
  url: string;
  /** The processes that serve: the instances and haproxy. */
  pids(): number[];
  /** Stops every process still running (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

/**
 * `count` instances of `serve --db DB --redis REDIS ARGS` and HAProxy in front of them, once
 * HAProxy's checks have seen every instance ready. On failure everything started is stopped.
 */
export async function startLbCluster(options: {
  db: string;
  redis: string;
  serveArgs: readonly string[];
  dir: string;
  cpu?: number | undefined;
}): Promise<LbCluster> {
  const started: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((child) => stopChild(child, 'SIGTERM', 10_000)));
  };
  try {
    const args = ['--db', options.db, '--redis', options.redis, ...options.serveArgs];
    const instances: ServeInstance[] = [];
    // One after the other: the first runs the migrations, the others find them done.
    for (let i = 0; i < SHIPPED.servers.length; i++) {
      const instance = await startServe(args, { cwd: options.dir, cpu: options.cpu });
      started.push(instance.child);
      instances.push(instance);
    }
    const haproxy = await startHaproxy({
      servers: instances.map((i) => i.port),
      dir: options.dir,
      cpu: options.cpu,
    });
    started.push(haproxy.child);
    await waitForServers(haproxy.stats, allUp, 'all three servers up');
    return {
      instances,
      haproxy,
      url: haproxy.url,
      pids: () =>
        started.flatMap((c) =>
          c.pid !== undefined && c.exitCode === null && c.signalCode === null ? [c.pid] : [],
        ),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `url` with `?schema=NAME` set: a deployment of its own in the database (and in Redis). */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.href;
}

/** Drops a schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  } finally {
    await sql.end();
  }
}

/** Deletes the Redis keys of the deployment in `schema` (its key group follows the schema). */
export async function dropRedisGroup(url: string, schema: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `shiftctl:${schema}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
