/**
 * What a check works with: the app's own HTTP and WebSocket clients (src/client), fresh ids so
 * that runs never meet each other's data, a way to create offers, and waits that end on an
 * event or a timeout, never on a sleep.
 */
import { spawn } from 'node:child_process';
import { WebSocket } from 'ws';
import { type ApiClient, createApiClient, type RawResponse } from '../client/api.js';
import { type ConnectionState, createConnection, socketUrl } from '../client/connection.js';
import { within as withinMs } from '../within.js';
import { CLAUSE, type Clause } from './clauses.js';

/** A check found the backend breaking the contract. */
export class CheckFailed extends Error {
  constructor(
    message: string,
    readonly expected: string,
    readonly actual: string,
    /** The clause broken, when it is not the check's own. */
    readonly clause?: Clause,
  ) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/** The check cannot run against this backend; not a failure. */
export class CheckSkipped extends Error {
  constructor(
    reason: string,
    /** Nothing to test (e.g. auth checks against an open backend), rather than untested. */
    readonly notApplicable = false,
  ) {
    super(reason);
    this.name = 'CheckSkipped';
  }
}

export interface Frame {
  /** Parsed JSON; undefined when the frame is not JSON. */
  json: unknown;
  raw: string;
  binary: boolean;
}

export interface VerifySocket {
  readonly empId: number;
  readonly frames: Frame[];
  /** Waits for a frame (already received or still to come) that matches. */
  next(match: (frame: Frame) => boolean, what: string): Promise<Frame>;
  /** Resolves with the frame if one matching arrives within the timeout, else undefined. */
  maybe(match: (frame: Frame) => boolean, ms?: number): Promise<Frame | undefined>;
  /** Waits for a connection state (reconnects are allowed only when asked for). */
  state(kind: ConnectionState['state'], what: string): Promise<ConnectionState>;
  ping(): Promise<number | undefined>;
  /** How the server closed the socket, when it did. */
  closedBy(): string | undefined;
  sendFrame(frame: string | Buffer): boolean;
  close(): void;
}

export interface Trigger {
  /** How offers are made, for reports: the test endpoint or the --send-cmd command. */
  readonly description: string;
  readonly isTestEndpoint: boolean;
  offer(empId: number, shiftId: number): Promise<RawResponse | undefined>;
}

export interface VerifyOptions {
  api: ApiClient;
  wsUrl: string;
  token?: string | undefined;
  headers?: Record<string, string>;
  ca?: string | undefined;
  /** How long any one wait may take. */
  timeoutMs: number;
  firstEmpId: number;
  firstShiftId: number;
  /** Run once per offer with SHIFTCTL_EMP_ID and SHIFTCTL_SHIFT_ID set, instead of the test endpoint. */
  sendCmd?: string | undefined;
  /** For the checks that need an operator's call (closing an employee's sockets). */
  adminToken?: string | undefined;
  /**
   * The backend's secret, when verify was given one: the auth checks mint tokens with it for
   * employees of their choosing (shiftctl's token format, src/auth/token.ts).
   */
  secret?: string | undefined;
  /**
   * How long the heartbeat check gives the backend to close a socket that answers no ping;
   * undefined or 0: the check is skipped (a real heartbeat is often 25 s or more).
   */
  heartbeatWaitMs?: number | undefined;
}

/** How a bare WebSocket attempt went: refused at the upgrade, or opened. */
export type Upgrade =
  | { opened: false; status: number; body: string }
  | { opened: false; status: 0; error: string }
  | { opened: true };

/**
 * A WebSocket as no client of the app would open it: it answers no ping (neither frames nor
 * `{"type":"ping"}`), sends nothing, and never reconnects. For the heartbeat and auth checks.
 */
export interface BareSocket {
  readonly upgrade: Promise<Upgrade>;
  /** Resolves when the socket closes (by either side), with the code. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Ping frames and JSON pings the server sent; frames of any other kind. */
  readonly received: { pingFrames: number; jsonPings: number; other: number };
  close(): void;
}

export interface VerifyContext {
  readonly options: VerifyOptions;
  readonly api: ApiClient;
  readonly trigger: Trigger;
  employee(): number;
  shift(): number;
  /** Creates an offer of the shift to the employee; skips the check when offers cannot be made. */
  offer(empId: number, shiftId: number): Promise<void>;
  /** Opens a socket as the app does and waits until it is connected. */
  connect(empId: number, options?: { reconnect?: boolean }): Promise<VerifySocket>;
  /**
   * Opens a bare socket for the employee: with verify's own credentials, or with only this token
   * (undefined: none at all).
   */
  bareSocket(empId: number, as: 'verify' | { token: string | undefined }): BareSocket;
  /** The HTTP client with this token instead of verify's own (none: no Authorization at all). */
  apiAs(token: string | undefined): ApiClient;
  /** Rejects after the timeout unless `promise` settles first. */
  within<T>(promise: Promise<T>, what: string, ms?: number): Promise<T>;
  /** Closes everything the check opened. */
  dispose(): void;
}

export function within<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  return withinMs(promise, ms, () => new Timeout(what, ms));
}

export class Timeout extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`nothing within ${ms} ms: waited for ${what}`);
    this.name = 'Timeout';
  }
}

/** A trigger that runs a shell command per offer, with the ids in its environment. */
function commandTrigger(command: string, options: VerifyOptions): Trigger {
  return {
    description: `--send-cmd ${JSON.stringify(command)}`,
    isTestEndpoint: false,
    offer(empId, shiftId) {
      return new Promise((resolve, reject) => {
        const child = spawn(command, {
          shell: true,
          detached: true,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: {
            ...process.env,
            SHIFTCTL_EMP_ID: String(empId),
            SHIFTCTL_SHIFT_ID: String(shiftId),
            SHIFTCTL_API_URL: options.api.apiUrl,
            SHIFTCTL_WS_URL: options.wsUrl,
          },
        });
        let stderr = '';
        // A command that hangs is stopped (with everything it started) after the timeout.
        const timer = setTimeout(() => {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
          reject(
            new CheckFailed(
              `--send-cmd did not finish for employee ${empId}, shift ${shiftId}`,
              `the command to exit within ${options.timeoutMs} ms`,
              'still running; stopped',
            ),
          );
        }, options.timeoutMs);
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          if (stderr.length < 2000) stderr += chunk;
        });
        child.once('error', (err) => {
          clearTimeout(timer);
          reject(new CheckSkipped(`--send-cmd could not be started: ${err.message}`));
        });
        child.once('close', (code) => {
          clearTimeout(timer);
          if (code === 0) return resolve(undefined);
          reject(
            new CheckFailed(
              `--send-cmd failed for employee ${empId}, shift ${shiftId}`,
              'the command to exit with 0',
              `exit code ${code}${stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : ''}`,
            ),
          );
        });
      });
    },
  };
}

function testEndpointTrigger(api: ApiClient): Trigger {
  return {
    description: 'POST /test/send_offer/{emp_id}?shift_id= (the seed test endpoint)',
    isTestEndpoint: true,
    async offer(empId, shiftId) {
      const path = `/test/send_offer/${empId}?shift_id=${shiftId}`;
      const res = await api.raw('POST', path);
      if (res.status === 404 || res.status === 405) {
        throw new CheckSkipped(
          `offers cannot be created: POST ${api.apiUrl}${path} answered ${res.status} (${res.text.slice(0, 120) || 'no body'}); give --send-cmd to create them another way`,
        );
      }
      if (res.status !== 200 && res.status !== 201) {
        throw new CheckFailed(
          `the test endpoint did not create the offer (POST ${path})`,
          'status 200 or 201',
          `status ${res.status}: ${res.text.slice(0, 300)}`,
          CLAUSE.testEndpointSends,
        );
      }
      return res;
    },
  };
}

export function createTrigger(options: VerifyOptions): Trigger {
  return options.sendCmd
    ? commandTrigger(options.sendCmd, options)
    : testEndpointTrigger(options.api);
}

/**
 * A fresh context per check; ids keep counting across checks so none share data. `shiftsUsed`
 * lists every shift id handed out so far.
 */
export function contextFactory(
  options: VerifyOptions,
): (() => VerifyContext) & { shiftsUsed(): number[] } {
  const trigger = createTrigger(options);
  let nextEmp = options.firstEmpId;
  let nextShift = options.firstShiftId;
  const fresh = (): VerifyContext => {
    const opened: Array<{ close(): void }> = [];
    let disposed = false;
    const wait = <T>(promise: Promise<T>, what: string, ms = options.timeoutMs) =>
      within(promise, what, ms);
    return {
      options,
      api: options.api,
      trigger,
      employee: () => nextEmp++,
      shift: () => nextShift++,
      async offer(empId, shiftId) {
        // A check that timed out must not go on acting on the server.
        if (disposed) throw new CheckSkipped('the check ran out of time');
        await trigger.offer(empId, shiftId);
      },
      async connect(empId, connectOptions = {}) {
        if (disposed) throw new CheckSkipped('the check ran out of time');
        const socket = openSocket(empId, options, wait, connectOptions.reconnect === true);
        opened.push(socket);
        await socket.state('connected', `the WebSocket of employee ${empId} to open`);
        return socket;
      },
      bareSocket(empId, as) {
        if (disposed) throw new CheckSkipped('the check ran out of time');
        const socket =
          as === 'verify'
            ? openBareSocket(empId, options.token, options.headers, options)
            : openBareSocket(empId, as.token, withoutAuthorization(options.headers), options);
        opened.push(socket);
        return socket;
      },
      apiAs: (token) =>
        createApiClient({
          apiUrl: options.api.apiUrl,
          token,
          headers: withoutAuthorization(options.headers),
          ca: options.ca,
          timeoutMs: Math.max(options.timeoutMs, 10_000),
        }),
      within: wait,
      dispose() {
        disposed = true;
        for (const s of opened) s.close();
      },
    };
  };
  return Object.assign(fresh, {
    shiftsUsed: () =>
      Array.from({ length: nextShift - options.firstShiftId }, (_, i) => options.firstShiftId + i),
  });
}

function openSocket(
  empId: number,
  options: VerifyOptions,
  wait: <T>(promise: Promise<T>, what: string, ms?: number) => Promise<T>,
  reconnect: boolean,
): VerifySocket {
  const frames: Frame[] = [];
  const states: ConnectionState[] = [];
  let wake: Array<() => void> = [];
  const notify = () => {
    const waiting = wake;
    wake = [];
    for (const w of waiting) w();
  };
  /** Resolves when `find` finds something, checking again after every event. */
  const until = <T>(find: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const check = () => {
        const found = find();
        if (found !== undefined) resolve(found);
        else wake.push(check);
      };
      check();
    });
  const connection = createConnection({
    wsUrl: options.wsUrl,
    empId,
    token: options.token,
    headers: options.headers,
    ca: options.ca,
    // The app's schedule, sped up: verify checks the server's side of a reconnect, not the wait.
    maxRetries: reconnect ? 3 : 0,
    timeScale: 0.05,
    onState(state) {
      states.push(state);
      notify();
    },
    onMessage(json, raw, binary) {
      frames.push({ json, raw, binary });
      notify();
    },
  });
  connection.start();
  let seenStates = 0;
  return {
    empId,
    frames,
    next: (match, what) =>
      wait(
        until(() => frames.find(match)),
        what,
      ),
    maybe: (match, ms = options.timeoutMs) =>
      within(
        until(() => frames.find(match)),
        '',
        ms,
      ).catch(() => undefined),
    async state(kind, what) {
      // States are consumed in order, so a second wait for `connected` means a new connection.
      const found = await wait(
        until(() => {
          for (let i = seenStates; i < states.length; i++) {
            const s = states[i] as ConnectionState;
            if (s.state === kind) {
              seenStates = i + 1;
              return s;
            }
            if (s.state === 'failed' && kind !== 'failed') {
              seenStates = i + 1;
              return s;
            }
          }
          return undefined;
        }),
        what,
      );
      if (found.state === 'failed' && kind !== 'failed') {
        throw new CheckFailed(
          `the WebSocket of employee ${empId} did not ${kind === 'connected' ? 'open' : kind}`,
          `a WebSocket at ${options.wsUrl}/${empId}`,
          found.reason,
          CLAUSE.connect,
        );
      }
      return found;
    },
    ping: () => connection.ping(options.timeoutMs),
    closedBy() {
      const closed = states.findLast((s) => s.state === 'disconnected');
      return closed?.state === 'disconnected'
        ? `the server closed the socket (code ${closed.code}${closed.reason ? `, ${closed.reason}` : ''})`
        : undefined;
    },
    sendFrame: (frame) => connection.sendFrame(frame),
    close: () => connection.close(),
  };
}

/** The -H headers without any Authorization among them (a token is chosen per call). */
function withoutAuthorization(headers: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
  );
}

function openBareSocket(
  empId: number,
  token: string | undefined,
  headers: Record<string, string> | undefined,
  options: VerifyOptions,
): BareSocket {
  const received = { pingFrames: 0, jsonPings: 0, other: 0 };
  const ws = new WebSocket(socketUrl(options.wsUrl, empId, token), {
    headers,
    perMessageDeflate: false,
    // A dead phone: ping frames go unanswered (ws answers them itself unless told not to).
    autoPong: false,
    ...(options.ca ? { ca: options.ca } : {}),
  });
  const upgrade = new Promise<Upgrade>((resolve) => {
    ws.once('open', () => resolve({ opened: true }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 2048) body += chunk;
      });
      res.on('end', () => {
        resolve({ opened: false, status: res.statusCode ?? 0, body });
        ws.terminate();
      });
      res.on('error', () => resolve({ opened: false, status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (err) => resolve({ opened: false, status: 0, error: err.message }));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('ping', () => {
    received.pingFrames++;
  });
  ws.on('message', (data) => {
    let type: unknown;
    try {
      type = (JSON.parse(data.toString()) as { type?: unknown } | null)?.type;
    } catch {
      type = undefined;
    }
    if (type === 'ping') received.jsonPings++;
    else received.other++;
  });
  return {
    upgrade,
    closed,
    received,
    close: () => ws.terminate(),
  };
}
