/**
 * Signed tokens: JWTs signed with HS256 by `jose`, carrying the employee id, a role and an
 * expiry. Only HS256 is accepted (never `none`), and a token never appears in a log or an error
 * message. A server may hold several secrets while one is rotated out: the first signs, any
 * verifies.
 */
import { subtle, type webcrypto } from 'node:crypto';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';

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

/** Checks a token's shape, signature and expiry, in that order, at `now` (ms). */
export type TokenVerifier = (token: string, now: number) => Promise<Verified>;

const MALFORMED: Verified = { ok: false, error: 'E_TOKEN_MALFORMED' };

/**
 * The one spelling of a compact HS256 token: three unpadded base64url parts, the last exactly
 * 32 bytes (43 characters, the last of which leaves its 2 unused bits zero). jose decodes with
 * `atob` on Node 20, which also takes padding, whitespace and non-zero unused bits, so without
 * this one signature would have many spellings that all verify.
 */
const COMPACT_HS256 = /^[\w-]+\.[\w-]+\.[\w-]{42}[AEIMQUYcgkosw048]$/;
const MAX_TOKEN_CHARS = 4096;

/** The HMAC key of a secret: its UTF-8 bytes, as tokens have always been signed. */
function keyBytes(secret: string): Uint8Array {
  if (secret === '') throw new TypeError('A secret must not be empty.');
  return new TextEncoder().encode(secret);
}

/** Mints a token for an employee (or an admin) valid for `ttlSeconds` from `now` (ms). */
export function signToken(
  claims: { emp_id?: number | undefined; role: Role },
  secret: string,
  ttlSeconds: number,
  now = Date.now(),
): Promise<string> {
  const iat = Math.floor(now / 1000);
  // The claims in the order tokens have always had, so a token is the same bytes as before.
  const payload: TokenClaims = { role: claims.role, iat, exp: iat + ttlSeconds };
  if (claims.emp_id !== undefined) payload.emp_id = claims.emp_id;
  return new SignJWT(payload as unknown as JWTPayload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(keyBytes(secret));
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

function tokenError(err: unknown): TokenError {
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'E_TOKEN_SIGNATURE';
  if (err instanceof errors.JWTExpired) return 'E_TOKEN_EXPIRED';
  if (err instanceof errors.JOSEError) return 'E_TOKEN_MALFORMED';
  throw err;
}

/**
 * A verifier for tokens signed with any of `secrets` (at least one, none empty). The keys are
 * imported once; a token is tried against them in order, so one signed with a secret being
 * rotated out (listed after the new one) costs a second HMAC.
 */
export function createTokenVerifier(secrets: readonly string[]): TokenVerifier {
  if (secrets.length === 0) throw new TypeError('At least one secret is needed.');
  const keys = Promise.all(
    secrets.map((secret) =>
      subtle.importKey('raw', keyBytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
        'verify',
      ]),
    ),
  );
  return async (token, now) => {
    if (token.length > MAX_TOKEN_CHARS || !COMPACT_HS256.test(token)) return MALFORMED;
    const tried = await keys;
    for (let i = 0; ; i++) {
      try {
        const { payload } = await jwtVerify(token, tried[i] as webcrypto.CryptoKey, {
          algorithms: ['HS256'],
          currentDate: new Date(now),
        });
        return isClaims(payload) ? { ok: true, claims: payload } : MALFORMED;
      } catch (err) {
        const error = tokenError(err);
        if (error !== 'E_TOKEN_SIGNATURE' || i === tried.length - 1) return { ok: false, error };
      }
    }
  };
}
