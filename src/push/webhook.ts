/**
 * The POST of one push to the webhook (`serve --push-webhook`): signed when there is a secret,
 * bounded by a timeout, and its outcome classified as sent, worth a retry, or failed for good.
 */
import { VERSION } from '../version.js';
import type { PushMessage } from './message.js';
import { signatureHeaders } from './signature.js';

export const PUSH_ID_HEADER = 'x-shiftctl-push-id';
export const ATTEMPT_HEADER = 'x-shiftctl-attempt';

/** What one attempt came to. */
export interface WebhookResult {
  /** `sent` (2xx), `retry` (a network error, a timeout, 429 or 5xx), `failed` (any other answer). */
  outcome: 'sent' | 'retry' | 'failed';
  /** The HTTP status, or null when none came. */
  status: number | null;
  /** Why it did not go: the network error, or the start of the webhook's answer. */
  error?: string;
  /** The webhook's `Retry-After`, in ms, when it gave one. */
  retryAfterMs?: number;
}

export interface WebhookOptions {
  url: string;
  /** Signs each body (see signature.ts). */
  secret?: string | undefined;
  /** How long an attempt may take, answer included. */
  timeoutMs: number;
  now: () => number;
}

/** The longest `Retry-After` honoured: a webhook asking for more gets this. */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** How much of an error answer is kept for the journal. */
const ERROR_TEXT_MAX = 200;

export type WebhookSender = (
  push: PushMessage,
  meta: { id: string; attempt: number },
  stop?: AbortSignal,
) => Promise<WebhookResult>;

export function createWebhookSender(options: WebhookOptions): WebhookSender {
  return async (push, meta, stop) => {
    const body = JSON.stringify(push);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': `shiftctl/${VERSION}`,
      [PUSH_ID_HEADER]: meta.id,
      [ATTEMPT_HEADER]: String(meta.attempt),
      ...(options.secret ? signatureHeaders(options.secret, body, options.now()) : {}),
    };
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onStop = (): void => abort.abort(new Error('the server is shutting down'));
    stop?.addEventListener('abort', onStop);
    try {
      const res = await fetch(options.url, {
        method: 'POST',
        headers,
        body,
        // A redirected POST would turn into a GET elsewhere: a moved webhook is a mistake to fix.
        redirect: 'manual',
        signal: abort.signal,
      });
      const status = res.status;
      if (status >= 200 && status < 300) {
        await res.body?.cancel();
        return { outcome: 'sent', status };
      }
      const error = await startOf(res);
      if (status === 429 || status >= 500) {
        const retryAfterMs = retryAfter(res.headers.get('retry-after'), options.now());
        return {
          outcome: 'retry',
          status,
          ...(error ? { error } : {}),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        };
      }
      return { outcome: 'failed', status, ...(error ? { error } : {}) };
    } catch (err) {
      const reason = abort.signal.aborted ? abort.signal.reason : err;
      return { outcome: 'retry', status: null, error: messageOf(reason) };
    } finally {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    }
  };
}

function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ...) as its cause.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** The first characters of an answer's body, for the journal; the rest is not read. */
async function startOf(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < ERROR_TEXT_MAX) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // The answer broke off: what came is enough.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.slice(0, ERROR_TEXT_MAX).trim();
}

/** `Retry-After` (seconds, or an HTTP date) as ms from now. */
export function retryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (Number.isNaN(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
