/**
 * Who may do what. Without a secret the server is open: every caller is treated as an admin.
 * With one, every call but the public ones needs a signed token; an employee token acts only
 * for its own employee, and test, admin and debug endpoints need an admin token.
 */
import { ShiftctlError } from '../errors.js';
import { type Role, verifyToken } from './token.js';

/** `public`: anyone; `any`: any valid token; `self`: that employee or an admin; `admin`. */
export type Access = 'public' | 'any' | 'self' | 'admin';

export interface Principal {
  role: Role;
  empId?: number | undefined;
  /** Expiry of the token, ms since the epoch; undefined in open mode. */
  expiresAt?: number | undefined;
}

export interface Authenticator {
  readonly enabled: boolean;
  /** The caller behind a bearer token (header or `?token=`); throws a 401 when it is not good. */
  authenticate(token: string | undefined): Principal;
  /** Throws a 403 unless the caller may act with this access for this employee. */
  authorize(principal: Principal, access: Access, empId?: number): void;
}

const OPEN: Principal = { role: 'admin' };

const TOKEN_MESSAGES = {
  E_TOKEN_MALFORMED: 'The token is not a well-formed shiftctl token.',
  E_TOKEN_SIGNATURE: "The token was not signed with this server's secret.",
  E_TOKEN_EXPIRED: 'The token has expired; mint a new one with `shiftctl token`.',
} as const;

/** The token from `Authorization: Bearer <token>`, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function createAuthenticator(secret: string | undefined, now: () => number): Authenticator {
  if (!secret) {
    return {
      enabled: false,
      authenticate: () => OPEN,
      authorize: () => {},
    };
  }
  return {
    enabled: true,
    authenticate(token) {
      if (!token) {
        throw new ShiftctlError(
          'E_AUTH_REQUIRED',
          'This server needs a token: send Authorization: Bearer <token> (or ?token= on the WebSocket).',
        );
      }
      const verified = verifyToken(token, secret, now());
      if (!verified.ok) throw new ShiftctlError(verified.error, TOKEN_MESSAGES[verified.error]);
      const { role, emp_id: empId, exp } = verified.claims;
      return { role, empId, expiresAt: exp * 1000 };
    },
    authorize(principal, access, empId) {
      if (access === 'public' || access === 'any' || principal.role === 'admin') return;
      if (access === 'admin') {
        throw new ShiftctlError('E_FORBIDDEN', 'This endpoint needs an admin token.');
      }
      if (principal.empId !== empId) {
        throw new ShiftctlError(
          'E_FORBIDDEN',
          `This token is for employee ${principal.empId}; it cannot act for employee ${empId}.`,
        );
      }
    },
  };
}
