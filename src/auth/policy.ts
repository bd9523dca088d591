/**
 * Who may do what. Without a secret the server is open: every caller is treated as an admin.
 * With one, every call but the public ones needs a signed token; an employee token acts only
 * for its own employee, and test, admin and debug endpoints need an admin token.
 */
import { ShiftctlError } from '../errors.js';
import { createTokenVerifier, type Role } from './token.js';

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
  /**
   * The caller behind a bearer token (header or `?token=`); a 401 when it is not good. Without
   * a secret, and for a token verified before that has not expired, the answer comes at once;
   * otherwise as a promise (verifying is asynchronous), which rejects with the 401.
   */
  authenticate(token: string | undefined): Principal | Promise<Principal>;
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

/**
 * Tokens verified, by token, until they expire: a phone sends the same token with every call,
 * and verifying with jose (WebCrypto, promises) added about 70 microseconds of server CPU to
 * each request of `shiftctl bench` with a token, a third more; remembered, a request costs what
 * it did with the hand-written HMAC. Bounded: the oldest go first.
 */
const VERIFIED_TOKENS = 10_000;

/**
 * Who may do what, for a server with these secrets (none: open). The first secret is the one
 * new tokens are signed with; every one listed verifies.
 */
export function createAuthenticator(
  secrets: string | readonly string[] | undefined,
  now: () => number,
): Authenticator {
  const keys = typeof secrets === 'string' ? [secrets] : (secrets ?? []);
  if (keys.length === 0 || (keys.length === 1 && !keys[0])) {
    return {
      enabled: false,
      authenticate: () => OPEN,
      authorize: () => {},
    };
  }
  const verify = createTokenVerifier(keys);
  const verified = new Map<string, Principal & { expiresAt: number }>();

  async function verifyAndRemember(token: string): Promise<Principal> {
    const result = await verify(token, now());
    if (!result.ok) {
      verified.delete(token);
      throw new ShiftctlError(result.error, TOKEN_MESSAGES[result.error]);
    }
    const { role, emp_id: empId, exp } = result.claims;
    const principal = Object.freeze({ role, empId, expiresAt: exp * 1000 });
    if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value as string);
    verified.set(token, principal);
    return principal;
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
      const known = verified.get(token);
      if (known !== undefined && known.expiresAt > now()) return known;
      return verifyAndRemember(token);
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
