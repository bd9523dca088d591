/** Real parts for tests: a real server on port 0, real `ws` clients, real HTTP. */
import { once } from 'node:events';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import type { Clock } from '../src/offers/ports.js';
import { createServer, type ServerOptions, type ShiftServer } from '../src/server/create-server.js';

export const DEFAULT_WAIT_MS = 5000;

/** Starts a server on a free port with an in-memory database and no heartbeat. */
export function startServer(options: ServerOptions = {}): Promise<ShiftServer> {
  return createServer({ port: 0, db: ':memory:', heartbeatSeconds: 0, ...options });
}

/** A clock the test moves by hand; timers due by then fire, in order, as it moves. */
export function manualClock(start = Date.parse('2026-01-14T15:30:00.000Z')) {
  let now = start;
  let timers: Array<{ at: number; fn: () => void }> = [];
  const clock = {
    now: () => now,
    schedule(at: number, fn: () => void) {
      const timer = { at, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    /** Moves time on by `ms`, firing every timer due by then. */
    advance(ms: number): void {
      now += ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at)[0];
        if (!due) return;
        timers = timers.filter((t) => t !== due);
        due.fn();
      }
    },
    /** Moves time on without firing timers, as when a timer runs late. */
    jump(ms: number): void {
      now += ms;
    },
    /** Timers still waiting. */
    get pending(): number {
      return timers.length;
    },
  };
  return clock satisfies Clock;
}

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function http<T = any>(
  server: { url: string },
  method: string,
  path: string,
  body?: unknown,
  init: RequestInit = {},
): Promise<HttpResult<T>> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: leave the text for the assertion to show
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export const get = <T = any>(server: { url: string }, path: string) => http<T>(server, 'GET', path);
export const post = <T = any>(server: { url: string }, path: string, body?: unknown) =>
  http<T>(server, 'POST', path, body);

export function respond(
  server: { url: string },
  empId: number,
  shiftId: number,
  response: 'accepted' | 'rejected',
) {
  return post(server, '/api/shift_offer/respond', {
    emp_id: empId,
    shift_id: shiftId,
    response,
    timestamp: '2026-01-14T15:30:00.000',
  });
}

/** Resolves or rejects with `promise`, or rejects naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A `ws` client that records every message, so tests can wait for the one they expect. */
export class TestClient {
  readonly messages: any[] = [];
  readonly ws: WebSocket;
  private waiters: Array<() => void> = [];
  closed?: { code: number; reason: string };

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    this.ws.on('error', () => this.wake());
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  async opened(ms = DEFAULT_WAIT_MS): Promise<this> {
    if (this.ws.readyState !== WebSocket.OPEN) {
      await withTimeout(once(this.ws, 'open'), ms, 'the socket to open');
    }
    return this;
  }

  /** Waits for a message matching `match` (received before or after the call). */
  async next(match: (m: any) => boolean, ms = DEFAULT_WAIT_MS, what = 'a matching message') {
    const found = () => this.messages.find(match);
    return withTimeout(
      new Promise<any>((resolve, reject) => {
        const check = () => {
          const m = found();
          if (m) return resolve(m);
          if (this.closed)
            return reject(new Error(`socket closed (${this.closed.code}) before ${what}`));
          this.waiters.push(check);
        };
        check();
      }),
      ms,
      what,
    );
  }

  offer(shiftId: number, ms?: number) {
    return this.next(
      (m) => m.type === 'shift_offer' && m.shift_id === shiftId,
      ms,
      `offer ${shiftId}`,
    );
  }

  result(shiftId: number, ms?: number) {
    return this.next(
      (m) => m.type === 'offer_result' && m.shift_id === shiftId,
      ms,
      `offer_result ${shiftId}`,
    );
  }

  async waitClose(ms = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
    if (this.closed) return this.closed;
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => (this.closed ? resolve() : this.waiters.push(check));
        check();
      }),
      ms,
      'the socket to close',
    );
    return this.closed as unknown as { code: number; reason: string };
  }

  send(data: unknown): void {
    this.ws.send(typeof data === 'string' ? data : JSON.stringify(data));
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens a socket as employee `empId` and waits until it is open and has had its replay. */
export async function connect(server: ShiftServer, empId: number | string): Promise<TestClient> {
  const client = new TestClient(`${server.wsUrl}/${empId}`);
  return client.opened();
}

/** Waits until the server lists `empId` as connected with `devices` sockets. */
export async function waitForDevices(server: ShiftServer, empId: number, devices: number) {
  const deadline = Date.now() + DEFAULT_WAIT_MS;
  for (;;) {
    const { body } = await get(server, '/api/connections');
    const entry = body.employees.find((e: { emp_id: number }) => e.emp_id === empId);
    if ((entry?.devices ?? 0) === devices) return;
    if (Date.now() > deadline) throw new Error(`employee ${empId} never had ${devices} devices`);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Tries a WebSocket upgrade and reports the HTTP status it was refused with (or 101). `change`
 * replaces headers (undefined removes one) and can set the method and a body.
 */
export function upgrade(
  s: { url: string },
  path: string,
  change: { headers?: Record<string, string | undefined>; method?: string; body?: string } = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(s.url);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries({
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      ...change.headers,
    })) {
      if (value !== undefined) headers[name] = value;
    }
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      method: change.method ?? 'GET',
      headers,
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, body: null });
    });
    req.on('error', reject);
    req.end(change.body);
  });
}

/** percentile_cont, as PostgreSQL defines it, over values in any order: the tests' oracle. */
export function percentileCont(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = p * (sorted.length - 1);
  const lo = Math.floor(at);
  const a = sorted[lo] as number;
  return a + (at - lo) * ((sorted[Math.ceil(at)] as number) - a);
}
