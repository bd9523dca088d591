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
  E_NOT_FOUND: 404,
  E_OFFER_NOT_FOUND: 404,
  E_SHIFT_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_ANSWER_CONFLICT: 409,
  E_OFFER_ANSWERED: 409,
  E_SHIFT_EXISTS: 409,
  E_SHIFT_TAKEN: 409,
  E_BODY_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_INTERNAL: 500,
  E_UNAVAILABLE: 503,
  // CLI-only codes (never sent over HTTP)
  E_USAGE: 400,
  E_FIXTURES: 400,
  E_LISTEN: 500,
  E_DATABASE: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Exit codes of the `shiftctl` binary: 2 for a usage or input mistake, 1 for anything else. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

export class ShiftctlError extends Error {
  readonly code: ErrorCode;
  /** Extra, client-safe detail (for example the validation issues). */
  readonly details: unknown;

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
    return this.status < 500 ? EXIT.USAGE : EXIT.FAILURE;
  }
}

export function isShiftctlError(err: unknown): err is ShiftctlError {
  return err instanceof ShiftctlError;
}
