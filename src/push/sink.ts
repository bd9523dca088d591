/**
 * A webhook receiver for pushes (`shiftctl push-sink`): answers each POST as FCM would, after
 * checking its signature when it has the secret, so a developer sees exactly what would have
 * woken the phone. It can fail the first pushes on purpose, to show the server's retries.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PushMessage } from './message.js';
import {
  SIGNATURE_HEADER,
  type SignatureCheck,
  TIMESTAMP_HEADER,
  verifyPush,
} from './signature.js';
import { ATTEMPT_HEADER, PUSH_ID_HEADER } from './webhook.js';

/** One push received, and how it was answered. */
export interface ReceivedPush {
  /** ms since the epoch. */
  at: number;
  pushId: string | null;
  attempt: number | null;
  /** `valid`, `unsigned` (no secret to check with), or why it is invalid. */
  signature: 'valid' | 'unsigned' | `invalid: ${Exclude<SignatureCheck, { ok: true }>['reason']}`;
  /** The status answered. */
  answered: number;
  /** The body as sent, parsed; or its text when it is not JSON. */
  body: PushMessage | string;
}

export interface PushSinkOptions {
  port?: number;
  host?: string;
  /** Check signatures with this secret (pushes without a good one get 401). */
  secret?: string | undefined;
  /** Answer 500 to this many pushes first (after the signature check). */
  fail?: number;
  /** Largest body taken, bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  onPush(push: ReceivedPush): void;
  now?: () => number;
}

export interface PushSink {
  /** The URL to give `serve --push-webhook`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startPushSink(options: PushSinkOptions): Promise<PushSink> {
  const now = options.now ?? Date.now;
  const limit = options.maxBodyBytes ?? 64 * 1024;
  let failLeft = options.fail ?? 0;
  let received = 0;

  function answer(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  function error(res: ServerResponse, status: number, code: string, message: string): void {
    answer(res, status, { error: { code, message } });
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const header = (name: string): string | undefined => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    let body: PushMessage | string = raw;
    try {
      body = JSON.parse(raw) as PushMessage;
    } catch {
      // Shown as text: the sink shows what came, whatever it is.
    }
    let signature: ReceivedPush['signature'] = 'unsigned';
    let status = 200;
    if (options.secret !== undefined) {
      const check = verifyPush(
        options.secret,
        { signature: header(SIGNATURE_HEADER), timestamp: header(TIMESTAMP_HEADER) },
        raw,
        now(),
      );
      signature = check.ok ? 'valid' : `invalid: ${check.reason}`;
      if (!check.ok) status = 401;
    }
    if (status === 200 && typeof body === 'string') status = 400;
    if (status === 200 && failLeft > 0) {
      failLeft--;
      status = 500;
    }
    const attempt = Number(header(ATTEMPT_HEADER));
    options.onPush({
      at: now(),
      pushId: header(PUSH_ID_HEADER) ?? null,
      attempt: Number.isSafeInteger(attempt) ? attempt : null,
      signature,
      answered: status,
      body,
    });
    if (status === 401) {
      error(res, 401, 'E_SIGNATURE', `The push's signature is not valid (${signature}).`);
    } else if (status === 400) {
      error(res, 400, 'E_BAD_JSON', 'The push is not JSON.');
    } else if (status === 500) {
      error(res, 500, 'E_FAILING_ON_PURPOSE', 'push-sink --fail: failing this push on purpose.');
    } else {
      received++;
      // What FCM answers: the message's name.
      answer(res, 200, { name: `projects/shiftctl-push-sink/messages/${received}` });
    }
  }

  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      error(res, 405, 'E_METHOD_NOT_ALLOWED', 'POST pushes here.');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (size > limit) {
        error(res, 413, 'E_BODY_TOO_LARGE', `A push is at most ${limit} bytes.`);
        return;
      }
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
