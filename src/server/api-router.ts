/**
 * The hot path: every route of the table, served straight from `node:http` without Express.
 * A send or an answer is the whole of a benchmark's work, so the per-request pipeline is one
 * function: match, headers, authenticate, read and parse the body, validate, authorize,
 * rate-limit, handle, write, journal. Express keeps the pages around it (index, docs, 404).
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { type Authenticator, bearerToken, type Principal } from '../auth/policy.js';
import { ERROR_STATUS, type ErrorCode, ShiftctlError } from '../errors.js';
import type { ErrorBody } from '../protocol/schemas.js';
import { parse } from '../protocol/validate.js';
import type { NewJournalEntry } from '../store/types.js';
import type { ClientAddress } from './client-address.js';
import type { FailureAnswer } from './failures.js';
import type { Faults } from './faults.js';
import type { Logger } from './log.js';
import type { RateLimitResult } from './rate-limit.js';
import type { Route } from './routes.js';

export interface ApiRouterOptions {
  routes: Route[];
  auth: Authenticator;
  faults: Faults;
  log: Logger;
  bodyLimit: number;
  answerLimits?: { employee: AnswerLimiter; address: AnswerLimiter } | undefined;
  /** The address an answer counts against. */
  clientAddress: ClientAddress;
  /** Headers every API answer carries (security headers, CORS); the same for every request. */
  commonHeaders: Record<string, string>;
  journal(entry: Omit<NewJournalEntry, 'at'>): void;
  /** Counts a request refused at the gate, which gets no journal line. */
  refused(code: string): void;
  /** What an error that is not a coded one is answered (and logged): src/server/failures.ts. */
  failures: FailureAnswer;
}

/**
 * Refusals at the gate (authentication, authorization, rate limit): counted, not journalled,
 * since anyone can send them as fast as they like and the journal is for what reached the rules.
 */
const GATE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'E_AUTH_REQUIRED',
  'E_TOKEN_MALFORMED',
  'E_TOKEN_SIGNATURE',
  'E_TOKEN_EXPIRED',
  'E_FORBIDDEN',
  'E_RATE_LIMITED',
]);

interface CompiledPath {
  pattern: RegExp;
  keys: string[];
  byMethod: Map<string, Route>;
  allow: string;
}

/** The JSON error body and the headers that go with its code. */
export function errorResponse(
  code: ErrorCode,
  message: string,
  details?: unknown,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const status = ERROR_STATUS[code];
  if (status === 401) {
    const error = code === 'E_AUTH_REQUIRED' ? '' : ', error="invalid_token"';
    headers['WWW-Authenticate'] = `Bearer realm="shiftctl"${error}`;
  }
  const retryAfter = (details as { retry_after_s?: number } | undefined)?.retry_after_s;
  if (code === 'E_RATE_LIMITED' && retryAfter !== undefined)
    headers['Retry-After'] = String(retryAfter);
  const body: ErrorBody = { success: false, code, message };
  if (details !== undefined) body.details = details;
  return { status, body, headers };
}

/**
 * An error answer, JSON like every other, that closes the connection: its status, its headers
 * in the order they are written, and its text.
 */
export function closingErrorAnswer(
  code: ErrorCode,
  message: string,
  extra?: Record<string, string>,
): { status: number; headers: Record<string, string>; text: string } {
  const { status, body, headers } = errorResponse(code, message);
  const text = JSON.stringify(body);
  return {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      ...headers,
      ...extra,
      'Content-Length': String(Buffer.byteLength(text)),
      Connection: 'close',
    },
    text,
  };
}

/**
 * That answer as a whole HTTP/1.1 message: for sockets without a ServerResponse (refused
 * WebSocket upgrades, requests Node's parser refused).
 */
export function rawErrorResponse(
  code: ErrorCode,
  message: string,
  extra?: Record<string, string>,
): string {
  const { status, headers, text } = closingErrorAnswer(code, message, extra);
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return `${head}\r\n${text}`;
}

function compile(routes: Route[]): CompiledPath[] {
  const byPath = new Map<string, CompiledPath>();
  for (const route of routes) {
    let compiled = byPath.get(route.path);
    if (!compiled) {
      const keys: string[] = [];
      const source = route.path
        .split(/(\{\w+\})/)
        .map((part) => {
          const key = /^\{(\w+)\}$/.exec(part)?.[1];
          if (key) {
            keys.push(key);
            return '([^/]+)';
          }
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      compiled = { pattern: new RegExp(`^${source}/?$`), keys, byMethod: new Map(), allow: '' };
      byPath.set(route.path, compiled);
    }
    compiled.byMethod.set(route.method.toUpperCase(), route);
  }
  for (const c of byPath.values()) {
    const methods = [...c.byMethod.keys()];
    c.allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
  }
  return [...byPath.values()];
}

function queryOf(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(search)) {
    const prior = query[key];
    query[key] =
      prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return query;
}

/** Charsets a JSON body may be declared in, and how each is decoded. */
const CHARSETS: Partial<Record<string, BufferEncoding>> = {
  'utf-8': 'utf8',
  utf8: 'utf8',
  'us-ascii': 'utf8',
  ascii: 'utf8',
  'iso-8859-1': 'latin1',
  latin1: 'latin1',
};

/** The client went away (or was cut off for stalling) before its request body arrived. */
class ClientGone extends Error {}

/** Reads a JSON body up to `limit` bytes; `undefined` when there is none. */
function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  // Gone while the request waited (a token being verified, injected latency): a destroyed
  // stream emits nothing more, so waiting for its end would wait forever.
  if (req.destroyed) return Promise.reject(new ClientGone());
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    return Promise.reject(
      new ShiftctlError(
        'E_BODY_TOO_LARGE',
        `Request body is larger than the limit of ${limit} bytes.`,
      ),
    );
  }
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.trim().toLowerCase() !== 'identity') {
    return Promise.reject(
      new ShiftctlError('E_UNSUPPORTED_MEDIA_TYPE', `Unsupported content encoding "${encoding}".`),
    );
  }
  // Any media type is read as JSON (curl -d sends a form type), in UTF-8 (RFC 8259) or in a
  // charset that clients send by default and Node decodes exactly: ASCII and Latin-1.
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
  const decoding = charset === undefined ? 'utf8' : CHARSETS[charset.toLowerCase()];
  if (decoding === undefined) {
    return Promise.reject(
      new ShiftctlError(
        'E_UNSUPPORTED_MEDIA_TYPE',
        `Unsupported charset "${charset}": send the JSON body in UTF-8.`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(
          new ShiftctlError(
            'E_BODY_TOO_LARGE',
            `Request body is larger than the limit of ${limit} bytes.`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      if (!failed) reject(new ClientGone());
    });
    req.on('end', () => {
      if (failed) return;
      if (size === 0) {
        resolve(undefined);
        return;
      }
      // A small body (every answer) comes in one chunk: no copy into a new buffer for it.
      const text =
        chunks.length === 1
          ? (chunks[0] as Buffer).toString(decoding)
          : Buffer.concat(chunks, size).toString(decoding);
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(
          new ShiftctlError(
            'E_BAD_JSON',
            `Request body is not valid JSON: ${(err as Error).message}`,
          ),
        );
      }
    });
  });
}

/** `http://host/path?q` as `/path?q`; anything that is not an absolute URL as it came. */
function originForm(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return url;
  }
}

/** What a request brought, kept for its journal line. */
interface Seen {
  body?: unknown;
  query?: Record<string, string | string[]>;
}

function idOf(value: unknown): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
}

function refuseUnless(taken: RateLimitResult): void {
  if (!taken.ok) {
    throw new ShiftctlError(
      'E_RATE_LIMITED',
      `Too many answers; try again in ${taken.retryAfterSeconds} s.`,
      {
        retry_after_s: taken.retryAfterSeconds,
      },
    );
  }
}

/** A limiter of this instance (answers at once) or one shared by every instance (a round trip). */
export interface AnswerLimiter {
  take(key: string): RateLimitResult | Promise<RateLimitResult>;
  giveBack(key: string): void | Promise<void>;
}

/**
 * Charges the employee's bucket first and the address's only for what that let through: one
 * employee flooding its own answers must not get everyone behind the same address (a proxy, an
 * office NAT) refused. A request the address refuses gives the employee's token back, so that
 * each bucket counts only requests that were served.
 */
async function admit(
  limits: { employee: AnswerLimiter; address: AnswerLimiter },
  empId: number | undefined,
  address: string | undefined,
): Promise<void> {
  const employeeKey = empId === undefined ? undefined : `emp:${empId}`;
  if (employeeKey !== undefined) refuseUnless(await limits.employee.take(employeeKey));
  const byAddress = await limits.address.take(`ip:${address}`);
  if (!byAddress.ok && employeeKey !== undefined) await limits.employee.giveBack(employeeKey);
  refuseUnless(byAddress);
}

/**
 * Returns a handler for requests to table routes, or `false` from it when the path is not one
 * (the caller hands those to Express).
 */
export function createApiRouter(options: ApiRouterOptions) {
  const compiled = compile(options.routes);
  // Headers as one flat [name, value, ...] list, which writeHead takes as well as an object:
  // copying an object with spread costs about 2 microseconds here, a list a tenth of that.
  const commonHeaders = Object.entries(options.commonHeaders).flat();

  function write(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    extra?: Record<string, string>,
  ): void {
    const payload = JSON.stringify(body);
    const headers = extra
      ? [...commonHeaders, ...Object.entries(extra).flat()]
      : [...commonHeaders];
    headers.push('Content-Type', 'application/json; charset=utf-8');
    headers.push('Content-Length', String(Buffer.byteLength(payload)));
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : payload);
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): string {
    if (res.headersSent) {
      res.destroy();
      return 'E_INTERNAL';
    }
    const known = options.failures(err, {
      method: req.method,
      path: (req.url ?? '').split('?')[0],
    });
    const { status, body, headers } = errorResponse(known.code, known.message, known.details);
    // A body too large is not read to the end: close the connection after the answer.
    if (known.code === 'E_BODY_TOO_LARGE') headers.Connection = 'close';
    write(req, res, status, body, headers);
    return known.code;
  }

  /**
   * Serves one request; `seen` keeps the raw body and query for the journal, even on failure
   * (the query is parsed once, for both).
   */
  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    rawParams: Record<string, string>,
    search: string,
    seen: Seen,
  ): Promise<number> {
    const latency = options.faults.httpLatencyMs;
    if (latency > 0 && route.tag !== 'admin') await delay(latency);
    let principal: Principal | undefined;
    if (route.access !== 'public') {
      // Without a secret, or for a token seen before, no promise: nothing to wait for.
      const caller = options.auth.authenticate(bearerToken(req.headers.authorization));
      principal = caller instanceof Promise ? await caller : caller;
    }
    const raw = route.body ? await readBody(req, options.bodyLimit) : undefined;
    seen.body = raw;
    const params = route.params ? parse(route.params, rawParams, 'param') : {};
    seen.query = search ? queryOf(search) : {};
    const query = route.query ? parse(route.query, seen.query, 'query') : {};
    let body: unknown;
    if (route.body) {
      if (raw === undefined) {
        if (!route.bodyOptional)
          throw new ShiftctlError('E_INVALID_BODY', 'A JSON request body is required.');
      } else {
        body = parse(route.body, raw, 'body');
      }
    }
    const input = { params, query, body };
    if (principal) options.auth.authorize(principal, route.access, route.subject?.(input));
    if (route.rateLimited && options.answerLimits) {
      await admit(options.answerLimits, route.subject?.(input), options.clientAddress(req));
    }
    const result = await route.handle(input);
    const status = route.status ?? 200;
    write(req, res, status, result);
    return status;
  }

  // With CORS on, Express answers preflights with the CORS headers; without, OPTIONS is answered
  // here with what the path allows.
  const corsOn = options.commonHeaders['Access-Control-Allow-Origin'] !== undefined;

  return function handle(req: IncomingMessage, res: ServerResponse): boolean {
    let url = req.url ?? '/';
    // The absolute form (`GET http://host/healthz`), which proxies send: its path and query.
    if (url.charCodeAt(0) !== 47) url = originForm(url);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    for (const c of compiled) {
      const match = c.pattern.exec(path);
      if (!match) continue;
      const rawParams: Record<string, string> = {};
      try {
        c.keys.forEach((key, i) => {
          rawParams[key] = decodeURIComponent(match[i + 1] ?? '');
        });
      } catch {
        fail(req, res, new ShiftctlError('E_BAD_REQUEST', 'The request could not be read.'));
        return true;
      }
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
      const route = c.byMethod.get(method);
      if (!route) {
        if (req.method === 'OPTIONS') {
          if (corsOn) return false; // a CORS preflight: Express answers it
          res.writeHead(204, [...commonHeaders, 'Allow', c.allow]);
          res.end();
          return true;
        }
        const { status, body } = errorResponse(
          'E_METHOD_NOT_ALLOWED',
          `${req.method} is not allowed here; use ${[...c.byMethod.keys()].join(' or ')}.`,
        );
        write(req, res, status, body, { Allow: c.allow });
        return true;
      }
      const searchText = q < 0 ? '' : url.slice(q + 1);
      const seen: Seen = {};
      serve(req, res, route, rawParams, searchText, seen).then(
        (status) => journal(req, route, rawParams, searchText, seen, status),
        (err: unknown) => {
          // Nobody to answer, and not the server's fault: only the journal hears of it.
          if (err instanceof ClientGone) {
            journal(req, route, rawParams, searchText, seen, 'aborted');
            return;
          }
          const code = fail(req, res, err);
          if (GATE_CODES.has(code)) options.refused(code);
          else journal(req, route, rawParams, searchText, seen, res.statusCode, code);
        },
      );
      return true;
    }
    return false;
  };

  function journal(
    req: IncomingMessage,
    route: Route,
    params: Record<string, string>,
    searchText: string,
    seen: Seen,
    status: number | 'aborted',
    code?: string,
  ): void {
    if (route.journal === false) return;
    const b = seen.body as { emp_id?: unknown; shift_id?: unknown } | undefined;
    const query = seen.query ?? (searchText ? queryOf(searchText) : {});
    const inQuery = query.shift_id;
    const shiftInQuery = Array.isArray(inQuery) ? inQuery[0] : inQuery;
    options.journal({
      kind: 'request',
      empId: idOf(params.emp_id ?? b?.emp_id),
      shiftId: idOf(params.shift_id ?? params.id ?? b?.shift_id ?? shiftInQuery),
      name: `${req.method} ${route.path}`,
      outcome: String(status),
      detail: code ? { code } : null,
    });
  }
}
