/** PROTOCOL.md as a tiny in-memory server for `shiftctl verify`'s tests, with switchable defects. */
import { createServer, type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { bearerToken } from '../src/auth/policy.js';
import { createTokenVerifier } from '../src/auth/token.js';

/**
 * `lax-ids` is the seed's server too: ids are taken as Python's `int()` takes them (numeric
 * strings, fractions truncated) and `send_offer` takes zero and negative ids.
 * `drops-bad-frames` is the seed's server: a frame that is not JSON ends its socket, a moment
 * later (its read loop fails), and an offer pushed to that dead socket is a 500.
 * `no-heartbeat` pings every socket but never closes one that stops answering;
 * `heartbeat-ignores-pong` closes every socket at its second ping, answered or not.
 * `ignores-auth` takes any request and any WebSocket, with a token or without, for anyone.
 */
export type Defect =
  | 'wrong-types'
  | 'pending-object'
  | 'no-fcfs'
  | 'no-ping'
  | 'drops-bad-frames'
  | 'lax-ids'
  | 'no-heartbeat'
  | 'heartbeat-ignores-pong'
  | 'ignores-auth';

export interface ContractServerOptions {
  /** Turns authentication on: shiftctl's tokens signed with this secret (src/auth/token.ts). */
  secret?: string;
  /** Milliseconds between ping frames; a socket that missed the last one's pong is closed. */
  heartbeatMs?: number;
}
export interface ContractServer {
  url: string;
  close(): Promise<void>;
}

type Answer = 'accepted' | 'rejected';
type Reply = { success: true; assigned: boolean; message: string; timestamp: string };
/** One offer of a shift to an employee; `reply` is the body of its first answer. */
type Offer = {
  shiftId: number;
  empId: number;
  sentAt: string;
  response: Answer | null;
  reply: Reply | null;
};
type Result = [status: number, body: unknown];
/** Who a request is from: an admin (anyone, with authentication off) or one employee. */
type Caller = { admin: true } | { admin: false; empId: number };
type Handler = (
  p: string[],
  q: URLSearchParams,
  req: IncomingMessage,
  caller: Caller,
) => Result | Promise<Result>;

const SEED = {
  date: '2026-01-20',
  start_time: '09:00',
  end_time: '17:00',
  location_name: 'Outreach Center',
  client_name: 'Test Client',
  service_type: 'Home Care',
  description: 'Test shift offer from backend',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const NOT_FOUND = new HttpError(404, 'E_NOT_FOUND', 'bad WebSocket path');

/** Answers an upgrade with an HTTP error instead of a WebSocket. */
function refuse(socket: Duplex, e: HttpError): void {
  const body = JSON.stringify({ success: false, code: e.code, message: e.message });
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** A positive integer from a path or query segment (no sign, no leading zero, safe size). */
function parseId(raw: string | undefined, what: string): number {
  if (raw === undefined || !/^[1-9]\d{0,14}$/.test(raw)) {
    throw new HttpError(400, 'E_BAD_ID', `${what} must be a positive integer`);
  }
  return Number(raw);
}

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length; // read on past the limit, so the keep-alive connection stays usable
    if (size <= 65_536) chunks.push(chunk);
  }
  if (size > 65_536) throw new HttpError(413, 'E_TOO_LARGE', 'body too large');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'E_BAD_JSON', 'body must be JSON');
  }
}

export function startContractServer(
  defects: Defect[] = [],
  options: ContractServerOptions = {},
): Promise<ContractServer> {
  const has = (d: Defect) => defects.includes(d);
  const verifyToken =
    options.secret === undefined || has('ignores-auth')
      ? undefined
      : createTokenVerifier([options.secret]);
  /** The caller behind a token; 401 without a good one (when authentication is on). */
  async function authenticate(token: string | undefined): Promise<Caller> {
    if (!verifyToken) return { admin: true };
    if (token === undefined) throw new HttpError(401, 'E_UNAUTHORIZED', 'a token is needed');
    const verified = await verifyToken(token, Date.now());
    if (!verified.ok) throw new HttpError(401, verified.error, 'the token is not good');
    const { role, emp_id } = verified.claims;
    return role === 'admin' || emp_id === undefined
      ? { admin: true }
      : { admin: false, empId: emp_id };
  }
  /** 403 unless the caller is an admin or (given one) that employee. */
  const allow = (caller: Caller, empId?: number) => {
    if (caller.admin || caller.empId === empId) return;
    throw new HttpError(403, 'E_FORBIDDEN', 'not for this token');
  };
  const winners = new Map<number, number | null>(); // shift id -> winning emp id
  const offers = new Map<string, Offer>(); // `${shift}:${emp}`, in first-offer order
  const sockets = new Map<number, Set<WebSocket>>();

  const offerJson = (shiftId: number, wire: boolean) =>
    wire && has('wrong-types')
      ? { type: 'shift_offer', shift_id: String(shiftId), ...SEED, date: 20260120 }
      : { type: 'shift_offer', shift_id: shiftId, ...SEED };
  const isOpen = (o: Offer) => o.response === null && winners.get(o.shiftId) == null;
  const held = (empId: number) => [...offers.values()].filter((o) => o.empId === empId);
  /** Sockets ended by a frame they could not read (`drops-bad-frames`): the seed keeps them. */
  const unreadable = new WeakSet<WebSocket>();
  const push = (empId: number, msg: unknown): number => {
    const all = [...(sockets.get(empId) ?? [])];
    if (all.some((ws) => unreadable.has(ws))) {
      throw new HttpError(500, 'E_INTERNAL', 'Internal Server Error'); // a send to a dead socket
    }
    const open = all.filter((ws) => ws.readyState === ws.OPEN);
    for (const ws of open) ws.send(JSON.stringify(msg));
    return open.length;
  };
  const drop = (empId: number, ws: WebSocket) => {
    const set = sockets.get(empId);
    set?.delete(ws);
    if (set?.size === 0) sockets.delete(empId);
  };

  function respond(body: unknown, caller: Caller): Result {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const { response, timestamp } = b;
    const lax = (v: unknown) => (has('lax-ids') && v !== '' ? Math.trunc(Number(v)) || v : v);
    const empId = lax(b.emp_id);
    const shiftId = lax(b.shift_id);
    if (!isId(empId) || !isId(shiftId) || (response !== 'accepted' && response !== 'rejected')) {
      throw new HttpError(400, 'E_BAD_REQUEST', 'need emp_id, shift_id and response');
    }
    allow(caller, empId);
    if (timestamp != null && typeof timestamp !== 'string') {
      throw new HttpError(400, 'E_BAD_REQUEST', 'timestamp must be a string');
    }
    const offer = offers.get(`${shiftId}:${empId}`);
    if (!offer) throw new HttpError(404, 'E_NO_OFFER', 'shift was not offered to this employee');
    if (offer.reply) {
      if (offer.response === response) return [200, offer.reply];
      throw new HttpError(409, 'E_ALREADY_ANSWERED', `already ${offer.response}`);
    }
    let assigned = false;
    if (response === 'accepted' && has('no-fcfs')) assigned = true;
    else if (response === 'accepted' && winners.get(shiftId) == null) {
      assigned = true;
      winners.set(shiftId, empId);
      for (const o of offers.values()) {
        if (o.shiftId !== shiftId || o.empId === empId || o.response !== null) continue;
        push(o.empId, { type: 'offer_result', shift_id: shiftId, status: 'taken' });
      }
    }
    // Every device of the employee who answered is told the outcome (PROTOCOL.md's Additions).
    if (assigned) push(empId, { type: 'offer_result', shift_id: shiftId, status: 'assigned' });
    if (response === 'rejected') {
      push(empId, { type: 'offer_result', shift_id: shiftId, status: 'rejected' });
    }
    const message = assigned
      ? 'Shift successfully assigned'
      : response === 'rejected'
        ? 'Shift offer rejected'
        : 'Shift already assigned to another employee';
    offer.response = response;
    offer.reply = { success: true, assigned, message, timestamp: new Date().toISOString() };
    return [200, offer.reply];
  }

  function sendOffer(empId: number, q: URLSearchParams): Result {
    const shiftId = !q.has('shift_id')
      ? 999
      : has('lax-ids')
        ? Math.trunc(Number(q.get('shift_id')))
        : parseId(q.get('shift_id') ?? '', 'shift_id');
    if (!winners.has(shiftId)) winners.set(shiftId, null);
    if (winners.get(shiftId) != null) throw new HttpError(409, 'E_ASSIGNED', 'shift is assigned');
    const key = `${shiftId}:${empId}`;
    const offer = offers.get(key);
    if (offer?.response) throw new HttpError(409, 'E_ALREADY_ANSWERED', 'offer already answered');
    if (!offer) {
      const sentAt = new Date().toISOString();
      offers.set(key, { shiftId, empId, sentAt, response: null, reply: null });
    }
    const n = push(empId, offerJson(shiftId, true));
    return [200, { status: n > 0 ? 'sent' : 'pending', emp_id: empId, shift_id: shiftId }];
  }

  const emp = (e: string | undefined) =>
    has('lax-ids') && /^-?\d+$/.test(e ?? '') ? Number(e) : parseId(e, 'emp_id');
  const routes: Record<string, Handler> = {
    'POST /api/test/send_offer/:': ([e], q, _req, caller) => {
      allow(caller);
      return sendOffer(emp(e), q);
    },
    'POST /api/shift_offer/respond': async (_p, _q, req, caller) =>
      respond(await readJson(req), caller),
    'GET /api/shift_offers/pending/:': ([e], _q, _req, caller) => {
      allow(caller, emp(e));
      const list = held(emp(e)).filter(isOpen);
      const wire = list.map((o) => offerJson(o.shiftId, true));
      return [200, has('pending-object') ? { offers: wire } : wire];
    },
    'GET /api/shift_offers/history/:': ([e], q, _req, caller) => {
      allow(caller, emp(e));
      const limit = q.has('limit') ? parseId(q.get('limit') ?? '', 'limit') : 50;
      const list = held(emp(e)).reverse().slice(0, limit);
      const entry = (o: Offer) => ({ ...offerJson(o.shiftId, false), response: o.response });
      return [200, list.map((o) => ({ ...entry(o), sent_at: o.sentAt }))];
    },
    'GET /api/shift_offer/:/available': ([s]) => {
      const winner = winners.get(parseId(s, 'shift_id'));
      if (winner === undefined) throw new HttpError(404, 'E_NO_SHIFT', 'unknown shift');
      return [200, { available: winner === null }];
    },
    'POST /api/admin/kick/:': ([e], _q, _req, caller) => {
      allow(caller);
      const empId = emp(e);
      const list = [...(sockets.get(empId) ?? [])];
      sockets.delete(empId);
      for (const ws of list) ws.close(1012, 'kicked');
      return [200, { emp_id: empId, closed: list.length }];
    },
    'GET /api/connections': (_p, _q, _req, caller) => {
      allow(caller);
      const ids = [...sockets.keys()].sort((a, b) => a - b);
      return [200, { active_connections: ids, total: ids.length }];
    },
  };
  const table = Object.entries(routes).map(([key, fn]) => {
    const [method = '', pattern = ''] = key.split(' ');
    return { method, re: new RegExp(`^${pattern.replaceAll(':', '([^/]+)')}$`), fn };
  });

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    autoPong: !has('no-ping'),
  });
  const server = createServer((req, res) => {
    const [path = '', query = ''] = (req.url ?? '').split('?', 2);
    const send = ([status, body]: Result) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const onPath = table.filter(({ re }) => re.test(path));
    const route = onPath.find(({ method }) => method === req.method);
    const run = async (): Promise<Result> => {
      if (route) {
        const caller = await authenticate(bearerToken(req.headers.authorization));
        const params = route.re.exec(path)?.slice(1) ?? [];
        return route.fn(params, new URLSearchParams(query), req, caller);
      }
      if (onPath.length) throw new HttpError(405, 'E_METHOD', 'method not allowed');
      throw new HttpError(404, 'E_NOT_FOUND', 'no such route');
    };
    run().then(send, (err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, 'E_INTERNAL', String(err));
      if (!res.headersSent) send([e.status, { success: false, code: e.code, message: e.message }]);
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const m = /^\/ws\/([^/]+)$/.exec((req.url ?? '').split('?', 1)[0] ?? '');
    const empId = m && /^[1-9]\d{0,14}$/.test(m[1] ?? '') ? Number(m[1]) : 0;
    if (!empId) {
      refuse(socket, m ? new HttpError(400, 'E_BAD_ID', 'bad WebSocket path') : NOT_FOUND);
      return;
    }
    const token = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('token');
    authenticate(token ?? undefined)
      .then((caller) => allow(caller, empId))
      .then(
        () => admit(req, socket, head, empId),
        (err: unknown) =>
          refuse(
            socket,
            err instanceof HttpError ? err : new HttpError(500, 'E_INTERNAL', String(err)),
          ),
      );
  });

  const alive = new WeakSet<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws) && !has('no-heartbeat')) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, options.heartbeatMs ?? 100);
  heartbeat.unref();

  function admit(req: IncomingMessage, socket: Duplex, head: Buffer, empId: number): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.add(ws);
      ws.on('pong', () => {
        if (!has('heartbeat-ignores-pong')) alive.add(ws);
      });
      ws.on('error', () => {});
      if (has('drops-bad-frames')) {
        ws.on('message', (data, binary) => {
          let json = !binary;
          try {
            JSON.parse(String(data));
          } catch {
            json = false;
          }
          // The seed's loop fails on the frame and closes.
          if (json) return;
          unreadable.add(ws);
          setTimeout(() => ws.terminate(), 30);
        });
      }
      // A socket the client closed leaves the table (the seed's disconnect handler), so that a
      // push to that employee later is not a 500 however slowly the close is seen.
      ws.on('close', () => {
        if (!unreadable.has(ws)) drop(empId, ws);
      });
      const set = sockets.get(empId) ?? new Set<WebSocket>();
      sockets.set(empId, set.add(ws));
      for (const o of held(empId).filter(isOpen))
        ws.send(JSON.stringify(offerJson(o.shiftId, true)));
    });
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(heartbeat);
            for (const ws of wss.clients) ws.terminate();
            sockets.clear();
            wss.close();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
