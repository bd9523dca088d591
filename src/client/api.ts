/**
 * The HTTP half of the app's client: the calls the app makes, plus the test and admin calls the
 * CLI needs. Answers are checked against the protocol schemas, so a server that breaks the
 * contract gets a clear error instead of a confusing crash further on.
 */
import { Agent } from 'undici';
import type { z } from 'zod';
import { ApiError, ShiftctlError } from '../errors.js';
import { networkWords } from '../network-errors.js';
import {
  AvailableResponse,
  ConnectionsResponse,
  type CreateShiftRequest,
  FaultSettings,
  type FaultSettingsRequest,
  HistoryResponse,
  JournalResponse,
  KickResponse,
  OfferResultResponse,
  PendingResponse,
  ResetResponse,
  type RespondRequest,
  RespondResponse,
  type SendOfferBody,
  SendOfferResponse,
  ShiftDetailView,
  ShiftListResponse,
} from '../protocol/schemas.js';
import { StatsResponse } from '../protocol/stats.js';
import { describeIssues, summariseIssues } from '../protocol/validate.js';
import { errorSaid, notJson, oneLine } from './answer-text.js';

export interface ApiClientOptions {
  apiUrl: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  headers?: Record<string, string>;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** An extra trusted certificate (PEM), for a self-signed server. */
  ca?: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;

// The seed's Python server answers these without shiftctl's extra fields; accept that.
const SentOffer = SendOfferResponse.partial({ devices: true });
const Connections = ConnectionsResponse.partial({ sockets: true, employees: true });
const Answered = RespondResponse.partial({ shift_id: true, emp_id: true, outcome: true });

function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string; reason?: unknown } }).cause;
  const words = networkWords(cause?.code);
  if (words) return words;
  if ((err as Error).name === 'TimeoutError') return 'timed out';
  // OpenSSL's message is its error queue over two lines; its reason says it.
  if (cause?.code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return 'wrong version number: no TLS there, is it an http:// server?';
  }
  if (typeof cause?.reason === 'string' && cause.code?.startsWith('ERR_SSL_')) {
    return `TLS: ${cause.reason}`;
  }
  return oneLine(cause?.message ?? (err as Error).message);
}

/** Certificate errors: the server is there, but its certificate is not trusted. */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/** Why a server could not be reached, with the next step to take. */
function unreachable(base: string, err: unknown): string {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  if (code !== undefined && UNTRUSTED_CERTIFICATE.has(code)) {
    return (
      `Cannot reach the server at ${base} (${reasonOf(err)}): its certificate is not trusted. ` +
      'Pass --ca with the certificate file (for `serve --tls-self-signed`, the one its banner ' +
      'names: "clients need --ca FILE").'
    );
  }
  return `Cannot reach the server at ${base} (${reasonOf(err)}). Is it running? Set the address with --url.`;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: unknown;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(options: ApiClientOptions) {
  const base = options.apiUrl.replace(/\/+$/, '');
  // Header names are case-insensitive: one spelling each, so -H and --token never both send one.
  const lower = (h: Record<string, string> = {}) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  const headers: Record<string, string> = { accept: 'application/json', ...lower(options.headers) };
  // Node's fetch takes an undici dispatcher; one with the extra CA trusts a self-signed server.
  const dispatcher = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;
  if (options.token) headers.authorization = `Bearer ${options.token}`;

  /**
   * One HTTP exchange as it happened: status, headers and body (parsed when it is JSON). Only a
   * server that cannot be reached is an error here; `verify` judges the rest itself.
   */
  async function raw(
    method: string,
    path: string,
    body?: unknown,
    extra: { text?: string; headers?: Record<string, string> } = {},
  ): Promise<RawResponse> {
    const url = `${base}${path}`;
    const text = extra.text ?? (body === undefined ? undefined : JSON.stringify(body));
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          ...headers,
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
          ...lower(extra.headers),
        },
        body: text,
        signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        ...(dispatcher ? { dispatcher } : {}),
      } as RequestInit);
    } catch (err) {
      throw new ShiftctlError('E_UNREACHABLE', unreachable(base, err));
    }
    const answer = await res.text();
    let json: unknown;
    try {
      json = answer ? JSON.parse(answer) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text: answer, json };
  }

  async function call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const answer = await raw(method, path, body);
    const { status, json } = answer;
    const contentType = answer.headers.get('content-type');
    if (status !== 200 && status !== 201) {
      const error = json as { code?: unknown } | undefined;
      const code = typeof error?.code === 'string' ? error.code : undefined;
      const said = errorSaid({ contentType, text: answer.text, json });
      throw new ApiError(status, code, said, `${method} ${path}`);
    }
    const unreadable = notJson({ contentType, text: answer.text, json });
    if (unreadable) {
      throw new ShiftctlError('E_BAD_RESPONSE', `${method} ${path}: ${unreadable}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ShiftctlError(
        'E_BAD_RESPONSE',
        `${method} ${path}: the server's answer does not follow the contract: ${summariseIssues(describeIssues(parsed.error))}`,
      );
    }
    return parsed.data;
  }

  return {
    apiUrl: base,
    raw,
    pending: (empId: number) => call('GET', `/shift_offers/pending/${empId}`, PendingResponse),
    history: (empId: number, limit?: number) =>
      call(
        'GET',
        `/shift_offers/history/${empId}${limit === undefined ? '' : `?limit=${limit}`}`,
        HistoryResponse,
      ),
    /** The answer as shiftctl's server gives it; fields a seed-style server leaves out are inferred. */
    respond: async (answer: RespondRequest): Promise<RespondResponse> => {
      const body = await call('POST', '/shift_offer/respond', Answered, answer);
      const inferred = body.assigned
        ? 'assigned'
        : answer.response === 'rejected'
          ? 'rejected'
          : 'taken';
      return {
        ...body,
        shift_id: body.shift_id ?? answer.shift_id,
        emp_id: body.emp_id ?? answer.emp_id,
        outcome: body.outcome ?? inferred,
      };
    },
    available: (shiftId: number) =>
      call('GET', `/shift_offer/${shiftId}/available`, AvailableResponse),
    sendTestOffer: (
      empId: number,
      shiftId: number,
      body?: z.input<typeof SendOfferBody>,
      ttlSeconds?: number,
    ) =>
      call(
        'POST',
        `/test/send_offer/${empId}?shift_id=${shiftId}${ttlSeconds ? `&ttl_seconds=${ttlSeconds}` : ''}`,
        SentOffer,
        body,
      ),
    connections: () => call('GET', '/connections', Connections),
    shifts: (status?: 'open' | 'assigned') =>
      call('GET', `/admin/shifts${status ? `?status=${status}` : ''}`, ShiftListResponse),
    createShift: (shift: z.input<typeof CreateShiftRequest>) =>
      call('POST', '/admin/shifts', OfferResultResponse, shift),
    offerShift: (shiftId: number, empIds: number[]) =>
      call('POST', `/admin/shifts/${shiftId}/offers`, OfferResultResponse, { emp_ids: empIds }),
    withdraw: (shiftId: number) =>
      call('POST', `/admin/shifts/${shiftId}/withdraw`, ShiftDetailView),
    approve: (shiftId: number, empId: number) =>
      call('POST', `/admin/shifts/${shiftId}/approve/${empId}`, ShiftDetailView),
    kick: (empId: number) => call('POST', `/admin/kick/${empId}`, KickResponse),
    faults: (settings?: z.input<typeof FaultSettingsRequest>) =>
      settings === undefined
        ? call('GET', '/admin/faults', FaultSettings)
        : call('POST', '/admin/faults', FaultSettings, settings),
    journal: (filter: Record<string, string | number | undefined>) => {
      const query = new URLSearchParams(
        Object.entries(filter)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]): [string, string] => [k, String(v)]),
      ).toString();
      return call('GET', `/admin/journal${query ? `?${query}` : ''}`, JournalResponse);
    },
    reset: () => call('POST', '/admin/reset', ResetResponse),
    stats: (query: {
      from?: string | undefined;
      to?: string | undefined;
      by?: string | undefined;
    }) => {
      const search = new URLSearchParams(
        Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
      ).toString();
      return call('GET', `/admin/stats${search ? `?${search}` : ''}`, StatsResponse);
    },
  };
}
