/**
 * The load generator behind `shiftctl bench`: real WebSocket clients and keep-alive HTTP, run
 * against any server that speaks the contract (and the floor's broadcast call). Each scenario
 * reports counts, throughput, latency percentiles and errors.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { WebSocket } from 'ws';
import { SCENARIOS, type ScenarioName } from './scenarios.js';

export { SCENARIOS, type ScenarioName };

export interface BenchOptions {
  /** e.g. `ws://127.0.0.1:8000/ws` */
  wsUrl: string;
  /** e.g. `http://127.0.0.1:8000/api` */
  apiUrl: string;
  /** Employees to connect (one socket each). */
  connections: number;
  /** Offers to send in the `offers` scenario (and answer in `answers`). */
  offers: number;
  /** HTTP requests in flight at once. */
  concurrency: number;
  /** Employees one shift is broadcast to. */
  broadcast: number;
  /** Employees racing for one shift. */
  race: number;
  /** The first employee id; employees are `firstEmpId .. firstEmpId + connections - 1`. */
  firstEmpId: number;
  /** The first shift id the bench uses (each run needs fresh ones). */
  firstShiftId: number;
  scenarios: readonly ScenarioName[];
  /** The server's process id, to report its memory per connection. */
  pid?: number | undefined;
  /** Several processes serving together (instances, their load balancer): figures are summed. */
  pids?: readonly number[] | undefined;
  /**
   * Named groups of processes (the instances, the load balancer, the database, ...) whose CPU
   * per operation is reported apart, as `cpu_us_per_op_by_part`. Each group's processes are
   * listed afresh before and after a scenario, so one started meanwhile (a database backend)
   * counts whole.
   */
  cpuParts?: Readonly<Record<string, () => readonly number[]>> | undefined;
  token?: string | undefined;
  /** Progress lines (to stderr in the CLI). */
  progress?: (line: string) => void;
}

export interface ScenarioResult {
  scenario: ScenarioName;
  count: number;
  errors: number;
  seconds: number;
  /** Per second, of whatever `count` counts. */
  throughput: number;
  p50_ms?: number;
  p99_ms?: number;
  max_ms?: number;
  [extra: string]: unknown;
}

export interface BenchReport {
  options: Omit<BenchOptions, 'progress' | 'token'>;
  results: ScenarioResult[];
}

const WAIT_LIMIT_MS = 120_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function latencyStats(samples: number[]): Pick<ScenarioResult, 'p50_ms' | 'p99_ms' | 'max_ms'> {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Resident memory of a process, in bytes (Linux). */
export function rssOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time a process has used so far (user + system), in milliseconds (Linux). */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Each part's processes with the CPU each has used so far (ms); those gone are left out. */
function partsCpu(parts: Readonly<Record<string, () => readonly number[]>>) {
  const out: Record<string, Map<number, number>> = {};
  for (const [name, list] of Object.entries(parts)) {
    const byPid = new Map<number, number>();
    for (const pid of list()) {
      const ms = cpuMsOf(pid);
      if (ms !== undefined) byPid.set(pid, ms);
    }
    out[name] = byPid;
  }
  return out;
}

/** CPU per operation (microseconds) of each part between two readings of `partsCpu`. */
function partsPerOp(
  before: Record<string, Map<number, number>>,
  after: Record<string, Map<number, number>>,
  count: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, now] of Object.entries(after)) {
    let ms = 0;
    for (const [pid, used] of now) ms += used - (before[name]?.get(pid) ?? 0);
    out[name] = Math.round((ms * 1000) / count);
  }
  return out;
}

/** The sum of `read` over `pids`; undefined when there are none or one cannot be read. */
function summed(pids: readonly number[], read: (pid: number) => number | undefined) {
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const pid of pids) {
    const value = read(pid);
    if (value === undefined) return undefined;
    total += value;
  }
  return total;
}

/** Waits for `work`, or `ms` at most, and leaves no timer behind to hold the process open. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `task` for items 0..count-1 with at most `limit` at once. */
export async function pool(count: number, limit: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

interface Arrival {
  at: number;
  resolve: () => void;
}

/** Every client socket routes what it receives through here. */
class Listeners {
  /** `${empId}:${shiftId}` -> waiting for that offer */
  readonly offers = new Map<string, Arrival>();
  /** shift id -> arrivals of a broadcast */
  readonly broadcasts = new Map<
    number,
    { count: number; last: number; target: number; done: () => void }
  >();
  readonly results = new Map<number, Map<string, number>>();

  onMessage(empId: number, text: string, socket: WebSocket): void {
    let m: { type?: string; shift_id?: number; status?: string };
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.type === 'ping') {
      socket.send('{"type":"pong"}');
      return;
    }
    if (m.type === 'shift_offer' && typeof m.shift_id === 'number') {
      const now = performance.now();
      const waiter = this.offers.get(`${empId}:${m.shift_id}`);
      if (waiter) {
        this.offers.delete(`${empId}:${m.shift_id}`);
        waiter.at = now;
        waiter.resolve();
      }
      const b = this.broadcasts.get(m.shift_id);
      if (b) {
        b.count++;
        b.last = now;
        if (b.count === b.target) b.done();
      }
      return;
    }
    if (m.type === 'offer_result' && typeof m.shift_id === 'number') {
      let byStatus = this.results.get(m.shift_id);
      if (!byStatus) {
        byStatus = new Map();
        this.results.set(m.shift_id, byStatus);
      }
      const status = String(m.status);
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    }
  }
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const say = options.progress ?? (() => {});
  const api = new URL(options.apiUrl);
  const apiPath = api.pathname.replace(/\/+$/, '');
  const http = new Pool(api.origin, { connections: options.concurrency, pipelining: 1 });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const listeners = new Listeners();
  const sockets = new Map<number, WebSocket>();
  const empIds = Array.from({ length: options.connections }, (_, i) => options.firstEmpId + i);
  const results: ScenarioResult[] = [];
  let nextShift = options.firstShiftId;
  const serverPids = options.pids ?? (options.pid !== undefined ? [options.pid] : []);

  /** Requests of the scenario running that were not answered 200, by "status code". */
  const refusals = new Map<string, number>();
  async function post(path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await http.request({
      method: 'POST',
      path: `${apiPath}${path}`,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.statusCode !== 200) {
      // Refusals by status and code, so a report says why (a 429 is the rate limit, ...).
      const code = (json as { code?: unknown } | undefined)?.code;
      const key = `${res.statusCode}${typeof code === 'string' ? ` ${code}` : ''}`;
      refusals.set(key, (refusals.get(key) ?? 0) + 1);
    }
    return { status: res.statusCode, json };
  }

  function open(empId: number): Promise<boolean> {
    const suffix = options.token ? `?token=${encodeURIComponent(options.token)}` : '';
    return new Promise((resolve) => {
      const ws = new WebSocket(`${options.wsUrl.replace(/\/+$/, '')}/${empId}${suffix}`, {
        perMessageDeflate: false,
      });
      ws.on('open', () => {
        sockets.set(empId, ws);
        resolve(true);
      });
      ws.on('message', (data) => listeners.onMessage(empId, data.toString(), ws));
      ws.on('error', () => resolve(false));
      ws.on('close', () => {
        if (sockets.get(empId) === ws) sockets.delete(empId);
        resolve(false);
      });
    });
  }

  async function connectAll(): Promise<{ ok: number; failed: number; seconds: number }> {
    const start = performance.now();
    let ok = 0;
    let failed = 0;
    await pool(empIds.length, 500, async (i) => {
      if (await open(empIds[i] as number)) ok++;
      else failed++;
    });
    return { ok, failed, seconds: (performance.now() - start) / 1000 };
  }

  /** Broadcasts a fresh shift to the first `size` employees; resolves when all have it. */
  async function broadcastOnce(
    size: number,
  ): Promise<{ ms: number; arrived: number; shiftId: number }> {
    const shiftId = nextShift++;
    const last = options.firstEmpId + size - 1;
    const done = new Promise<void>((resolve) => {
      listeners.broadcasts.set(shiftId, { count: 0, last: 0, target: size, done: resolve });
    });
    const start = performance.now();
    const res = await post(`/test/broadcast/${options.firstEmpId}/${last}?shift_id=${shiftId}`);
    if (res.status !== 200) throw new Error(`broadcast answered ${res.status}`);
    await within(done, WAIT_LIMIT_MS);
    const b = listeners.broadcasts.get(shiftId);
    listeners.broadcasts.delete(shiftId);
    return { ms: (b?.last ?? start) - start, arrived: b?.count ?? 0, shiftId };
  }

  const delivered: Array<{ empId: number; shiftId: number }> = [];

  for (const scenario of options.scenarios) {
    say(`bench: ${scenario}`);
    const cpuBefore = summed(serverPids, cpuMsOf);
    const partsBefore = options.cpuParts ? partsCpu(options.cpuParts) : undefined;
    const before = results.length;
    refusals.clear();
    await runScenario(scenario);
    if (refusals.size > 0 && results[before]) {
      results[before].refused = Object.fromEntries(refusals);
    }
    const cpuAfter = summed(serverPids, cpuMsOf);
    const result = results[before];
    if (result && cpuBefore !== undefined && cpuAfter !== undefined) {
      // The server's CPU per operation: steadier than throughput on a busy machine.
      result.server_cpu_ms = cpuAfter - cpuBefore;
      if (result.count > 0) {
        result.server_cpu_us_per_op = Math.round(((cpuAfter - cpuBefore) * 1000) / result.count);
      }
    }
    if (result && result.count > 0 && options.cpuParts && partsBefore) {
      result.cpu_us_per_op_by_part = partsPerOp(
        partsBefore,
        partsCpu(options.cpuParts),
        result.count,
      );
    }
  }

  async function runScenario(scenario: ScenarioName): Promise<void> {
    if (scenario === 'connect') {
      const before = summed(serverPids, rssOf);
      const { ok, failed, seconds } = await connectAll();
      await delay(1000); // let the server settle before reading its memory
      const after = summed(serverPids, rssOf);
      results.push({
        scenario,
        count: ok,
        errors: failed,
        seconds,
        throughput: ok / seconds,
        ...(before && after
          ? {
              rss_mib: Math.round(after / 1048576),
              rss_per_connection_kib:
                Math.round(((after - before) / Math.max(ok, 1) / 1024) * 10) / 10,
            }
          : {}),
      });
      return;
    }
    if (scenario === 'offers') {
      const latencies: number[] = [];
      let errors = 0;
      const firstShift = nextShift;
      nextShift += options.offers;
      const start = performance.now();
      const arrivals: Promise<void>[] = [];
      await pool(options.offers, options.concurrency, async (i) => {
        const empId = empIds[i % empIds.length] as number;
        const shiftId = firstShift + i;
        const sent = performance.now();
        const arrival: Arrival = { at: 0, resolve: () => {} };
        const arrived = new Promise<void>((resolve) => {
          arrival.resolve = resolve;
        });
        listeners.offers.set(`${empId}:${shiftId}`, arrival);
        arrivals.push(
          arrived.then(() => {
            latencies.push(arrival.at - sent);
            delivered.push({ empId, shiftId });
          }),
        );
        const res = await post(`/test/send_offer/${empId}?shift_id=${shiftId}`);
        if (res.status !== 200) {
          errors++;
          listeners.offers.delete(`${empId}:${shiftId}`);
          arrival.resolve();
        }
      });
      await within(Promise.all(arrivals), WAIT_LIMIT_MS);
      const seconds = (performance.now() - start) / 1000;
      const lost = listeners.offers.size;
      listeners.offers.clear();
      results.push({
        scenario,
        count: latencies.length,
        errors: errors + lost,
        seconds,
        throughput: latencies.length / seconds,
        ...latencyStats(latencies),
      });
      return;
    }
    if (scenario === 'answers') {
      const latencies: number[] = [];
      let errors = 0;
      let assigned = 0;
      const start = performance.now();
      await pool(delivered.length, options.concurrency, async (i) => {
        const { empId, shiftId } = delivered[i] as { empId: number; shiftId: number };
        const t = performance.now();
        const res = await post('/shift_offer/respond', {
          emp_id: empId,
          shift_id: shiftId,
          response: 'accepted',
          timestamp: new Date().toISOString().slice(0, -1),
        });
        latencies.push(performance.now() - t);
        if (res.status !== 200) errors++;
        else if ((res.json as { assigned?: boolean }).assigned === true) assigned++;
      });
      const seconds = (performance.now() - start) / 1000;
      results.push({
        scenario,
        count: delivered.length - errors,
        errors,
        seconds,
        throughput: (delivered.length - errors) / seconds,
        assigned,
        ...latencyStats(latencies),
      });
      return;
    }
    if (scenario === 'broadcast') {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await broadcastOnce(options.broadcast));
      const times = runs.map((r) => r.ms).sort((a, b) => a - b);
      results.push({
        scenario,
        count: runs[1]?.arrived ?? 0,
        errors: runs.filter((r) => r.arrived < options.broadcast).length,
        seconds: (times[1] ?? 0) / 1000,
        throughput: (runs[1]?.arrived ?? 0) / ((times[1] ?? 1) / 1000),
        last_arrival_ms: Math.round((times[1] ?? 0) * 10) / 10,
        runs_ms: times.map((t) => Math.round(t * 10) / 10),
      });
      return;
    }
    if (scenario === 'race') {
      const { shiftId, arrived } = await broadcastOnce(options.race);
      const racers = empIds.slice(0, options.race);
      let winners = 0;
      let losersTold = 0;
      let errors = arrived < options.race ? options.race - arrived : 0;
      const start = performance.now();
      await Promise.all(
        racers.map(async (empId) => {
          const res = await post('/shift_offer/respond', {
            emp_id: empId,
            shift_id: shiftId,
            response: 'accepted',
          });
          if (res.status !== 200) errors++;
          else if ((res.json as { assigned?: boolean }).assigned === true) winners++;
          else losersTold++;
        }),
      );
      const ms = performance.now() - start;
      const pushes = listeners.results.get(shiftId);
      results.push({
        scenario,
        count: racers.length,
        errors,
        seconds: ms / 1000,
        throughput: racers.length / (ms / 1000),
        winners,
        losers_told: losersTold,
        taken_pushes: pushes?.get('taken') ?? 0,
        all_told_ms: Math.round(ms * 10) / 10,
      });
      return;
    }
    if (scenario === 'reconnect') {
      for (const ws of sockets.values()) ws.terminate();
      await delay(500);
      const { ok, failed, seconds } = await connectAll();
      results.push({ scenario, count: ok, errors: failed, seconds, throughput: ok / seconds });
    }
  }

  for (const ws of sockets.values()) ws.terminate();
  await http.close();
  const { progress: _p, token: _t, ...shown } = options;
  return { options: shown, results };
}
