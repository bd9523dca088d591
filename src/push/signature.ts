/**
 * Signed webhook pushes, as Stripe and GitHub sign theirs: `X-Shiftctl-Signature: sha256=<hex>`,
 * an HMAC-SHA256 of `<timestamp>.<raw body>` with a shared secret, and the timestamp (Unix
 * seconds) in `X-Shiftctl-Timestamp`. Signing the timestamp with the body lets a receiver
 * refuse a push captured and sent again later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-shiftctl-signature';
export const TIMESTAMP_HEADER = 'x-shiftctl-timestamp';
/** How far a receiver lets a push's timestamp be from its own clock, by default. */
export const SIGNATURE_TOLERANCE_S = 300;

/** `sha256=<hex>` for this body sent at `timestamp` (Unix seconds). */
export function signPush(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `sha256=${mac}`;
}

/** The headers that sign `body`, sent at `now` (ms since the epoch). */
export function signatureHeaders(
  secret: string,
  body: string,
  now: number,
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signPush(secret, timestamp, body),
  };
}

export type SignatureCheck =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' | 'stale' };

/**
 * Checks a push's signature: present, well formed, made with `secret` over this raw body and
 * timestamp, and the timestamp within `toleranceS` of `now` (ms).
 */
export function verifyPush(
  secret: string,
  headers: { signature?: string | undefined; timestamp?: string | undefined },
  body: string,
  now: number,
  toleranceS = SIGNATURE_TOLERANCE_S,
): SignatureCheck {
  if (headers.signature === undefined || headers.timestamp === undefined) {
    return { ok: false, reason: 'missing' };
  }
  if (!/^\d{1,12}$/.test(headers.timestamp) || !/^sha256=[0-9a-f]{64}$/.test(headers.signature)) {
    return { ok: false, reason: 'malformed' };
  }
  const timestamp = Number(headers.timestamp);
  const expected = Buffer.from(signPush(secret, timestamp, body));
  if (!timingSafeEqual(expected, Buffer.from(headers.signature))) {
    return { ok: false, reason: 'mismatch' };
  }
  if (Math.abs(now / 1000 - timestamp) > toleranceS) return { ok: false, reason: 'stale' };
  return { ok: true };
}
