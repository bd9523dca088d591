/**
 * The WebSocket side: `/ws/{emp_id}` upgrades, replay of open offers on every connect,
 * heartbeats (JSON `ping` messages and ping frames, as in the ws README's recipe), and frames
 * from clients that must never crash or stall the server.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type Authenticator, bearerToken, type Principal } from '../auth/policy.js';
import type { ErrorCode } from '../errors.js';
import type { Clock } from '../offers/ports.js';
import type { OfferService } from '../offers/service.js';
import { type ErrorMessage, IdParam } from '../protocol/schemas.js';
import type { AnswersInFlight } from './answers.js';
import { rawErrorResponse } from './api-router.js';
import type { ClientAddress } from './client-address.js';
import type { FailureAnswer } from './failures.js';
import type { ServerFanout } from './fanout.js';
import type { Faults } from './faults.js';
import type { Peer } from './hub.js';
import type { Logger } from './log.js';

export interface WebSocketOptions {
  fanout: ServerFanout;
  service: OfferService;
  log: Logger;
  /** What a refused upgrade that is not a coded error is answered (the server's one). */
  failures: FailureAnswer;
  faults: Faults;
  clock: Clock;
  /** Milliseconds between heartbeats; 0 turns them off. */
  heartbeatMs: number;
  /** Largest frame a client may send; bigger ones close the socket with 1009. */
  maxFrameBytes: number;
  /** Bytes queued on a socket beyond which the server stops writing to it and drops it. */
  maxBufferedBytes: number;
  auth: Authenticator;
  /** The address a connection is logged as coming from. */
  clientAddress: ClientAddress;
  /** Open sockets allowed at once, in all and per employee. */
  maxConnections: number;
  maxConnectionsPerEmployee: number;
  /** Answers in flight per socket, for requests served without their upgrade. */
  answers: AnswersInFlight;
  /** Told when an employee's devices on this instance connect or go (the dashboard's stream). */
  onPresence?(empId: number): void;
}

export interface WebSocketSide {
  /** Open sockets on this instance. */
  readonly size: number;
  close(): Promise<void>;
}

interface Connection {
  empId: number;
  alive: boolean;
  /** When the token it connected with expires (ms); the socket is closed then. */
  expiresAt: number | undefined;
}

const PING_FRAME = JSON.stringify({ type: 'ping' });
const SHUTDOWN_GRACE_MS = 1000;
const PATH = /^\/ws\/([^/?]*)\/?$/;

/** Refuses an upgrade with a real HTTP status and a JSON body, before any WebSocket exists. */
function refuse(
  socket: Duplex,
  code: ErrorCode,
  message: string,
  headers?: Record<string, string>,
): void {
  socket.end(rawErrorResponse(code, message, headers));
}

/** Whether an upgrade asks for a WebSocket (RFC 6455 section 4.1), not, say, HTTP/2 (h2c). */
function wantsWebSocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '')
    .split(',')
    .some((protocol) => protocol.trim().toLowerCase() === 'websocket');
}

const HOP_BY_HOP_UPGRADE = new Set(['upgrade', 'http2-settings']);

/**
 * Serves a request that asked to upgrade to something else (curl --http2 and Java's HttpClient
 * ask for h2c) as the plain HTTP/1.1 request it also is, as RFC 9110 section 7.8 allows: its
 * head is written back without the upgrade and the socket handed to the HTTP server again.
 * (Node 20 sends every request with an Upgrade header to the upgrade listener.)
 */
function serveWithoutUpgrade(
  server: Server,
  answers: AnswersInFlight,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP_UPGRADE.has(lower)) continue;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((option) => option.trim())
        .filter((option) => option !== '' && !HOP_BY_HOP_UPGRADE.has(option.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  // A request pipelined behind others still being answered waits for those answers: the new
  // connection state would otherwise queue its answer where nothing ever sends it.
  answers.whenIdle(socket, () => {
    if (socket.destroyed) return;
    // The last answer armed the keep-alive timer; the request is already here.
    (socket as Duplex & { setTimeout(ms: number): void }).setTimeout(0);
    server.emit('encrypted' in socket ? 'secureConnection' : 'connection', socket);
  });
}

/**
 * Node takes its own error listener off a socket it hands to the upgrade listener; without one,
 * a client's reset (ECONNRESET) would be an unhandled 'error' that ends the process.
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

const TOKEN_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

/** Why `ws` would refuse this handshake (its own checks), first, so that the refusal is JSON too. */
function badHandshake(
  req: IncomingMessage,
): [ErrorCode, string, Record<string, string>?] | undefined {
  if (req.method !== 'GET') {
    return [
      'E_METHOD_NOT_ALLOWED',
      `A WebSocket is opened with GET, not ${req.method}.`,
      { Allow: 'GET' },
    ];
  }
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
    return ['E_BAD_REQUEST', 'Invalid Upgrade header: it must be "websocket" alone.'];
  }
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !/^[+/0-9A-Za-z]{22}==$/.test(key)) {
    return ['E_BAD_REQUEST', 'Missing or invalid Sec-WebSocket-Key header.'];
  }
  const version = Number(req.headers['sec-websocket-version']);
  if (version !== 13 && version !== 8) {
    return [
      'E_BAD_REQUEST',
      'Missing or unsupported Sec-WebSocket-Version header (use 13).',
      { 'Sec-WebSocket-Version': '13, 8' },
    ];
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const names = protocols.split(',').map((name) => name.trim());
    if (!TOKEN_LIST.test(protocols.trim()) || new Set(names).size !== names.length) {
      return ['E_BAD_REQUEST', 'Invalid Sec-WebSocket-Protocol header.'];
    }
  }
  return undefined;
}

function errorFrame(code: string, message: string): string {
  const frame: ErrorMessage = { type: 'error', code, message };
  return JSON.stringify(frame);
}

export function attachWebSocket(server: Server, options: WebSocketOptions): WebSocketSide {
  const { fanout, service, log, failures } = options;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: options.maxFrameBytes,
  });
  const connections = new Map<WebSocket, Connection>();
  let closing = false;

  function sendIfRoom(ws: WebSocket, frame: string): void {
    if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount <= options.maxBufferedBytes) {
      ws.send(frame);
    }
  }

  function onMessage(ws: WebSocket, conn: Connection, data: RawData, isBinary: boolean): void {
    conn.alive = true; // any frame proves the peer is there
    if (isBinary) {
      sendIfRoom(ws, errorFrame('E_BAD_FRAME', 'Binary frames are not accepted; send JSON text.'));
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      sendIfRoom(ws, errorFrame('E_BAD_JSON', 'The frame is not valid JSON.'));
      return;
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (type === 'pong') return;
    sendIfRoom(
      ws,
      errorFrame(
        'E_UNKNOWN_TYPE',
        `Unknown message type ${JSON.stringify(type ?? null)}; clients send only {"type":"pong"}.`,
      ),
    );
  }

  async function replayPending(ws: WebSocket, empId: number): Promise<void> {
    const offers = await service.pending(empId);
    if (ws.readyState !== WebSocket.OPEN || offers.length === 0) return;
    const at = options.clock.now();
    for (const offer of offers) {
      ws.send(JSON.stringify(offer));
      service.record({
        at,
        kind: 'push',
        empId,
        shiftId: offer.shift_id,
        name: 'shift_offer',
        outcome: 'sent',
        detail: { replay: true },
      });
    }
    service.delivered(
      empId,
      offers.map((o) => o.shift_id),
    );
    log.event({ event: 'replay', emp_id: empId, offers: offers.length });
  }

  /**
   * A device as the hub sees it: pushes go to the TCP socket under the WebSocket as frames built
   * once for every recipient. With compression off, `ws` writes each of its own frames to the
   * socket at once and whole, so frames from both never interleave.
   */
  class DevicePeer implements Peer {
    constructor(
      readonly ws: WebSocket,
      private readonly socket: Duplex,
    ) {}
    get bufferedAmount(): number {
      return this.ws.bufferedAmount;
    }
    sendFrame(frame: Buffer): void {
      if (this.ws.readyState === WebSocket.OPEN) this.socket.write(frame);
    }
    terminate(): void {
      this.ws.terminate();
    }
    close(code: number, reason: string): void {
      this.ws.close(code, reason);
    }
  }

  function onConnection(
    ws: WebSocket,
    req: IncomingMessage,
    empId: number,
    expiresAt: number | undefined,
    devices: number,
  ): void {
    const conn: Connection = { empId, alive: true, expiresAt };
    connections.set(ws, conn);
    // Join the fan-out before reading the open offers, so an offer made in between is pushed
    // live or replayed (perhaps both: delivery is at-least-once), never lost.
    const peer = new DevicePeer(ws, req.socket);
    fanout.attach(empId, peer);
    log.event({ event: 'connect', emp_id: empId, devices, from: options.clientAddress(req) });
    options.onPresence?.(empId);
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('message', (data, isBinary) => onMessage(ws, conn, data, isBinary));
    ws.on('error', (err) => {
      log.warn('websocket error', { emp_id: empId, error: err.message });
    });
    ws.on('close', (code) => {
      connections.delete(ws);
      fanout.detach(empId, peer);
      fanout.leave(empId).then(
        (left) => {
          log.event({ event: 'disconnect', emp_id: empId, devices: left, code });
          options.onPresence?.(empId);
        },
        () => log.event({ event: 'disconnect', emp_id: empId, code }),
      );
    });
    replayPending(ws, empId).catch((err: unknown) => {
      log.error('could not replay open offers', { emp_id: empId, error: String(err) });
    });
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Once per socket: pipelined h2c requests bring the same socket back here.
    if (!socket.listeners('error').includes(destroyOnError)) socket.on('error', destroyOnError);
    if (!wantsWebSocket(req)) {
      serveWithoutUpgrade(server, options.answers, req, socket, head);
      return;
    }
    const path = (req.url ?? '').split('?', 1)[0] ?? '';
    const match = PATH.exec(path);
    if (!match) {
      refuse(socket, 'E_NOT_FOUND', `No WebSocket endpoint at ${path}; connect to /ws/{emp_id}.`);
      return;
    }
    const id = IdParam.safeParse(decodeURIComponentSafe(match[1] ?? ''));
    if (!id.success) {
      refuse(socket, 'E_INVALID_PARAM', 'emp_id in /ws/{emp_id} must be a positive integer.');
      return;
    }
    const bad = badHandshake(req);
    if (bad) {
      refuse(socket, bad[0], bad[1], bad[2]);
      return;
    }
    if (closing) {
      refuse(socket, 'E_UNAVAILABLE', 'The server is shutting down.');
      return;
    }
    if (options.faults.refusing(options.clock.now())) {
      refuse(socket, 'E_UNAVAILABLE', 'Refusing new connections (an injected fault).');
      return;
    }
    let caller: Principal | Promise<Principal>;
    try {
      const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      const token = query.get('token') ?? bearerToken(req.headers.authorization);
      caller = options.auth.authenticate(token ?? undefined);
    } catch (err) {
      refuseFor(socket, err);
      return;
    }
    if (caller instanceof Promise) {
      caller.then(
        (principal) => admit(req, socket, head, id.data, principal),
        (err: unknown) => refuseFor(socket, err),
      );
    } else {
      admit(req, socket, head, id.data, caller);
    }
  });

  /** A refused upgrade: the caller's mistake as its own error, anything else as failures says. */
  function refuseFor(socket: Duplex, err: unknown): void {
    const known = failures(err, { during: 'the WebSocket upgrade' });
    refuse(socket, known.code, known.message);
  }

  /**
   * The checks after authentication, in the same tick as the upgrade itself, so that the
   * connection limits hold however many upgrades arrive at once.
   */
  function admit(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    empId: number,
    principal: Principal,
  ): void {
    try {
      options.auth.authorize(principal, 'self', empId);
    } catch (err) {
      refuseFor(socket, err);
      return;
    }
    // Verifying a token takes a moment, in which the server may have begun to shut down.
    if (closing) {
      refuse(socket, 'E_UNAVAILABLE', 'The server is shutting down.');
      return;
    }
    if (connections.size >= options.maxConnections) {
      refuse(socket, 'E_SERVER_FULL', 'The server has as many connections as it takes.');
      return;
    }
    fanout.join(empId, options.maxConnectionsPerEmployee).then(
      (devices) => {
        if (devices === null) {
          refuse(
            socket,
            'E_TOO_MANY_CONNECTIONS',
            `Employee ${empId} already has ${options.maxConnectionsPerEmployee} connections.`,
          );
          return;
        }
        // The place is taken: given back if the handshake comes to nothing.
        const giveBack = (): void => {
          fanout.leave(empId).catch(() => undefined);
        };
        if (closing || socket.destroyed) {
          giveBack();
          refuse(socket, 'E_UNAVAILABLE', 'The server is shutting down.');
          return;
        }
        socket.once('close', giveBack);
        wss.handleUpgrade(req, socket, head, (ws) => {
          socket.off('close', giveBack);
          onConnection(ws, req, empId, principal.expiresAt, devices);
        });
      },
      (err: unknown) => {
        log.warn('cannot count devices across instances; refusing a connection', {
          emp_id: empId,
          error: err instanceof Error ? err.message : String(err),
        });
        refuse(socket, 'E_UNAVAILABLE', 'The server cannot reach the other instances; try again.');
      },
    );
  }

  const heartbeat =
    options.heartbeatMs > 0
      ? setInterval(() => {
          const now = options.clock.now();
          for (const [ws, conn] of connections) {
            if (conn.expiresAt !== undefined && conn.expiresAt <= now) {
              ws.close(1008, 'token expired');
              continue;
            }
            if (!conn.alive) {
              log.event({ event: 'timeout', emp_id: conn.empId });
              ws.terminate();
              continue;
            }
            conn.alive = false;
            ws.ping();
            sendIfRoom(ws, PING_FRAME);
          }
        }, options.heartbeatMs)
      : undefined;
  heartbeat?.unref();

  return {
    get size() {
      return connections.size;
    },
    async close() {
      closing = true;
      if (heartbeat) clearInterval(heartbeat);
      const open = [...connections.keys()];
      await Promise.all(
        open.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) {
                resolve();
                return;
              }
              const timer = setTimeout(() => ws.terminate(), SHUTDOWN_GRACE_MS);
              ws.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              ws.close(1001, 'server shutting down');
            }),
        ),
      );
      wss.close();
    },
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
