/**
 * One error class for everything a user or a client can get wrong. Each code is stable: clients,
 * tests and scripts match on it, never on the message. HTTP statuses and CLI exit codes are
 * mapped from it here and nowhere else.
 */
export const ERROR_STATUS = {
  E_BAD_JSON: 400,
  E_BAD_REQUEST: 400,
  E_INVALID_BODY: 400,
  E_INVALID_PARAM: 400,
  E_INVALID_QUERY: 400,
  E_AUTH_REQUIRED: 401,
  E_TOKEN_MALFORMED: 401,
  E_TOKEN_SIGNATURE: 401,
  E_TOKEN_EXPIRED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_OFFER_NOT_FOUND: 404,
  E_SHIFT_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_REQUEST_TIMEOUT: 408,
  E_ANSWER_CONFLICT: 409,
  E_OFFER_ANSWERED: 409,
  E_SHIFT_EXISTS: 409,
  E_SHIFT_TAKEN: 409,
  E_SHIFT_CLOSED: 409,
  E_NOT_REQUESTED: 409,
  E_OFFER_EXPIRED: 410,
  E_OFFER_WITHDRAWN: 410,
  E_BODY_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_RATE_LIMITED: 429,
  E_TOO_MANY_CONNECTIONS: 429,
  E_HEADERS_TOO_LARGE: 431,
  E_INTERNAL: 500,
  E_UNAVAILABLE: 503,
  E_SERVER_FULL: 503,
  /** The database's disk is full: the write was not made; reads go on. */
  E_STORAGE_FULL: 503,
  /** Another program holds the database's write lock: the write was not made. */
  E_DATABASE_BUSY: 503,
  // CLI-only codes (never sent over HTTP)
  E_USAGE: 400,
  E_FIXTURES: 400,
  E_LISTEN: 500,
  E_DATABASE: 500,
  /** Another server (or program) holds the database file. */
  E_DATABASE_IN_USE: 500,
  /** Redis (`serve --redis`, the link between instances) cannot be reached or used. */
  E_REDIS: 500,
  /** The server could not be reached, or `listen` gave up reconnecting. */
  E_UNREACHABLE: 503,
  /** The server answered, but not with what the contract says. */
  E_BAD_RESPONSE: 502,
  /** The server refused a request (any 4xx); the server's own code is in `serverCode`. */
  E_REFUSED: 400,
  /** The server failed a request (any 5xx). */
  E_SERVER_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Exit codes of the `shiftctl` binary: 2 for a usage or input mistake, 3 when the server cannot
 * be reached, 4 when the server refused the request, 1 for anything else.
 */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, UNREACHABLE: 3, REFUSED: 4 } as const;

const EXIT_FOR: Partial<Record<ErrorCode, number>> = {
  E_UNREACHABLE: EXIT.UNREACHABLE,
  E_REFUSED: EXIT.REFUSED,
  E_SERVER_ERROR: EXIT.FAILURE,
  E_BAD_RESPONSE: EXIT.FAILURE,
};

export class ShiftctlError extends Error {
  readonly code: ErrorCode;
  /** Extra, client-safe detail (for example the validation issues). */
  readonly details: unknown;
  /**
   * The command has printed this failure as `--json` lines of its own (send-offer's refusal of
   * each employee): no `{"error":...}` line is added after them.
   */
  shownAsJson = false;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ShiftctlError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  get exitCode(): number {
    return EXIT_FOR[this.code] ?? (this.status < 500 ? EXIT.USAGE : EXIT.FAILURE);
  }
}

/** An error answer from a server: its HTTP status and its own code, when it gave one. */
export class ApiError extends ShiftctlError {
  readonly httpStatus: number;
  readonly serverCode: string | undefined;
  /** What the server said, on its own (the `message` also names the request). */
  readonly serverMessage: string;

  constructor(
    httpStatus: number,
    serverCode: string | undefined,
    serverMessage: string,
    request: string,
  ) {
    super(
      httpStatus < 500 ? 'E_REFUSED' : 'E_SERVER_ERROR',
      // What the server said first, as respond and send-offer say it, then where it was said.
      `${serverMessage} (${httpStatus}${serverCode ? ` ${serverCode}` : ''}, ${request})`,
    );
    this.name = 'ApiError';
    this.httpStatus = httpStatus;
    this.serverCode = serverCode;
    this.serverMessage = serverMessage;
  }
}

export function isShiftctlError(err: unknown): err is ShiftctlError {
  return err instanceof ShiftctlError;
}
