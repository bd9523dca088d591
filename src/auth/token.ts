/**
 * Signed tokens: JWT with HS256 from node:crypto, carrying the employee id, a role and an
 * expiry. Only HS256 is accepted (never `none`), signatures are compared in constant time,
 * and a token never appears in a log or an error message.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Role = 'employee' | 'admin';

export interface TokenClaims {
  /** The employee the token acts for; absent on an admin token not tied to one. */
  emp_id?: number;
  role: Role;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
}

export type TokenError = 'E_TOKEN_MALFORMED' | 'E_TOKEN_SIGNATURE' | 'E_TOKEN_EXPIRED';

export type Verified = { ok: true; claims: TokenClaims } | { ok: false; error: TokenError };

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function sign(input: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

/** Mints a token for an employee (or an admin) valid for `ttlSeconds` from `now` (ms). */
export function signToken(
  claims: { emp_id?: number | undefined; role: Role },
  secret: string,
  ttlSeconds: number,
  now = Date.now(),
): string {
  const iat = Math.floor(now / 1000);
  const payload: TokenClaims = { role: claims.role, iat, exp: iat + ttlSeconds };
  if (claims.emp_id !== undefined) payload.emp_id = claims.emp_id;
  const body = `${HEADER}.${base64url(JSON.stringify(payload))}`;
  return `${body}.${base64url(sign(body, secret))}`;
}

function isClaims(value: unknown): value is TokenClaims {
  const c = value as Partial<TokenClaims> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    (c.role === 'employee' || c.role === 'admin') &&
    Number.isSafeInteger(c.exp) &&
    (c.emp_id === undefined || (Number.isSafeInteger(c.emp_id) && (c.emp_id as number) > 0)) &&
    (c.role === 'admin' || c.emp_id !== undefined)
  );
}

/** Checks a token's shape, signature and expiry, in that order. */
export function verifyToken(token: string, secret: string, now = Date.now()): Verified {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 4096) return { ok: false, error: 'E_TOKEN_MALFORMED' };
  const [header, payload, signature] = parts as [string, string, string];
  let parsedHeader: unknown;
  let claims: unknown;
  try {
    parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, error: 'E_TOKEN_MALFORMED' };
  }
  const alg = (parsedHeader as { alg?: unknown } | null)?.alg;
  if (alg !== 'HS256' || !isClaims(claims)) return { ok: false, error: 'E_TOKEN_MALFORMED' };
  const expected = sign(`${header}.${payload}`, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, error: 'E_TOKEN_SIGNATURE' };
  }
  if (claims.exp * 1000 <= now) return { ok: false, error: 'E_TOKEN_EXPIRED' };
  return { ok: true, claims };
}
