/** The app's HTTP calls, from a browser: the same API, bodies and bearer token as the app. */
import { localTimestamp } from '../client/timestamp.js';
import type {
  ErrorBody,
  HistoryItem,
  OfferResponse,
  RespondRequest,
  RespondResponse,
  ShiftOfferMessage,
} from '../protocol/schemas.js';

/** A call the server answered with an error (`status` 0: it could not be reached). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error body's `details` (for a refused body, which fields and why). */
    readonly details?: unknown,
  ) {
    super(message);
  }
  /** The token is missing, bad or expired, or belongs to someone else. */
  get unauthorized(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export interface AppApi {
  pending(): Promise<ShiftOfferMessage[]>;
  history(limit?: number): Promise<HistoryItem[]>;
  respond(shiftId: number, response: OfferResponse): Promise<RespondResponse>;
}

/**
 * One call to the API, as the app makes it: JSON in and out, the bearer token when there is
 * one, nothing cached, no cookies. 200 and 201 are success; anything else is an ApiError.
 */
export async function callApi<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  bearer: string | undefined,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  // `cache` is the browser's (Node's fetch types, which the tests compile with, lack it).
  const init = {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store' as const,
    credentials: 'omit' as const,
  };
  let res: Response;
  try {
    res = await fetch(`/api${path}`, init);
  } catch {
    throw new ApiError(0, 'E_UNREACHABLE', 'The server cannot be reached.');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  // The app treats 200 and 201 as sent, anything else as a failure it shows.
  if (res.status !== 200 && res.status !== 201) {
    const error = parsed as Partial<ErrorBody> | undefined;
    throw new ApiError(
      res.status,
      String(error?.code ?? `HTTP_${res.status}`),
      String(error?.message ?? `The server answered HTTP ${res.status}.`),
      error?.details,
    );
  }
  return parsed as T;
}

/** Calls for one employee; `token()` is read at each call, so a new token applies at once. */
export function createAppApi(empId: number, token: () => string | undefined): AppApi {
  const call = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
    callApi<T>(method, path, token(), body);

  return {
    pending: () => call<ShiftOfferMessage[]>('GET', `/shift_offers/pending/${empId}`),
    history: (limit = 50) =>
      call<HistoryItem[]>('GET', `/shift_offers/history/${empId}?limit=${limit}`),
    respond(shiftId, response) {
      const body: RespondRequest = {
        emp_id: empId,
        shift_id: shiftId,
        response,
        timestamp: localTimestamp(),
      };
      return call<RespondResponse>('POST', '/shift_offer/respond', body);
    },
  };
}
