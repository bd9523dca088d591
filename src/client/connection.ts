/**
 * The WebSocket half of the app's client: connect to `${wsUrl}/${emp_id}`, answer pings, and
 * reconnect after an unexpected close or a failed connect on the app's schedule until the
 * retries run out. A deliberate `close()` never reconnects.
 */
import { WebSocket } from 'ws';
import { networkWords } from '../network-errors.js';
import { errorSaid, oneLine } from './answer-text.js';
import { DEFAULT_MAX_RETRIES, reconnectDelaySeconds } from './backoff.js';

export type ConnectionState =
  | { state: 'connecting'; url: string }
  | { state: 'connected'; url: string; reconnected: boolean }
  | { state: 'disconnected'; code: number; reason: string }
  | { state: 'reconnecting'; attempt: number; maxRetries: number; delaySeconds: number }
  | { state: 'failed'; attempts: number; reason: string; refused?: boolean }
  | { state: 'closed' };

export interface ConnectionOptions {
  wsUrl: string;
  empId: number;
  /** Added as `?token=`, as the app does. */
  token?: string | undefined;
  headers?: Record<string, string>;
  /** An extra trusted certificate (PEM), for a self-signed server. */
  ca?: string | undefined;
  /** Reconnect attempts before giving up. Default 10. */
  maxRetries?: number;
  /** Multiplies every reconnect delay; tests use a small one. Default 1. */
  timeScale?: number;
  onState(state: ConnectionState): void;
  /** Every message but `ping`, parsed. `raw` is the frame as received; `binary` its kind. */
  onMessage(message: unknown, raw: string, binary: boolean): void;
}

export interface Connection {
  start(): void;
  /** Closes on purpose: no reconnect follows. */
  close(): void;
  /** Sends a JSON message; false when not connected. */
  send(message: unknown): boolean;
  /** Sends a frame as it is (text for a string); false when not connected. */
  sendFrame(frame: string | Buffer): boolean;
  /**
   * Sends a WebSocket ping frame; resolves with the round trip in ms when its pong arrives, or
   * undefined when none arrives in time (or there is no connection).
   */
  ping(timeoutMs: number): Promise<number | undefined>;
}

const PONG = JSON.stringify({ type: 'pong' });

/** `${wsUrl}/${empId}` with `?token=` when there is one. */
export function socketUrl(wsUrl: string, empId: number, token?: string): string {
  const url = `${wsUrl.replace(/\/+$/, '')}/${empId}`;
  return token ? `${url}?token=${encodeURIComponent(token)}` : url;
}

export function createConnection(options: ConnectionOptions): Connection {
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const scale = options.timeScale ?? 1;
  const url = socketUrl(options.wsUrl, options.empId, options.token);
  const shownUrl = socketUrl(options.wsUrl, options.empId, options.token ? '***' : undefined);
  let ws: WebSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let everConnected = false;
  let stopped = false;

  function open(): void {
    options.onState({ state: 'connecting', url: shownUrl });
    const socket = new WebSocket(url, {
      headers: options.headers,
      perMessageDeflate: false,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    ws = socket;
    let opened = false;
    let lastError = '';
    let fatal = false;
    socket.on('open', () => {
      opened = true;
      failures = 0;
      options.onState({ state: 'connected', url: shownUrl, reconnected: everConnected });
      everConnected = true;
    });
    socket.on('message', (data, binary) => {
      const raw = data.toString();
      let message: unknown;
      try {
        message = JSON.parse(raw);
      } catch {
        message = undefined;
      }
      if ((message as { type?: unknown } | undefined)?.type === 'ping') {
        socket.send(PONG);
        return;
      }
      options.onMessage(message, raw, binary);
    });
    socket.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 2048) body += chunk;
      });
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const said = errorSaid({ contentType: res.headers['content-type'], text: body, json });
        lastError = `the server refused the connection: HTTP ${status}: ${said}`;
        // A refusal that retrying cannot change (a bad token, a bad id) ends the attempts now.
        if (status >= 400 && status < 500 && status !== 429) fatal = true;
        socket.terminate();
      });
    });
    socket.on('error', (err) => {
      lastError ||= describe(err);
    });
    socket.on('close', (code, reason) => {
      if (ws !== socket) return;
      ws = undefined;
      if (stopped) {
        options.onState({ state: 'closed' });
        return;
      }
      if (opened) options.onState({ state: 'disconnected', code, reason: reason.toString() });
      if (fatal || code === 1008) {
        // Refused (bad token, forbidden) or closed for policy (token expired): retrying won't help.
        stopped = true;
        options.onState({
          state: 'failed',
          attempts: failures,
          reason: lastError || `closed by the server: ${reason.toString() || `code ${code}`}`,
          refused: true,
        });
        return;
      }
      scheduleRetry(lastError || (opened ? `closed with code ${code}` : 'connection failed'));
    });
  }

  function scheduleRetry(reason: string): void {
    failures++;
    if (failures > maxRetries) {
      stopped = true;
      options.onState({ state: 'failed', attempts: maxRetries, reason });
      return;
    }
    const delaySeconds = reconnectDelaySeconds(failures);
    options.onState({ state: 'reconnecting', attempt: failures, maxRetries, delaySeconds });
    timer = setTimeout(open, delaySeconds * 1000 * scale);
  }

  return {
    start() {
      stopped = false;
      open();
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (ws) {
        ws.close(1000, 'client closing');
        ws.terminate();
      } else {
        options.onState({ state: 'closed' });
      }
    },
    send(message) {
      if (ws?.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(message));
      return true;
    },
    sendFrame(frame) {
      if (ws?.readyState !== WebSocket.OPEN) return false;
      ws.send(frame, { binary: typeof frame !== 'string' });
      return true;
    },
    ping(timeoutMs) {
      const socket = ws;
      if (socket?.readyState !== WebSocket.OPEN) return Promise.resolve(undefined);
      const payload = Buffer.from(`shiftctl-${Math.random().toString(36).slice(2)}`);
      const start = performance.now();
      return new Promise((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = (ms: number | undefined) => {
          clearTimeout(timer);
          socket.off('pong', onPong);
          socket.off('close', onClose);
          resolve(ms);
        };
        const onPong = (data: Buffer) => {
          if (data.equals(payload)) done(performance.now() - start);
        };
        const onClose = () => done(undefined);
        timer = setTimeout(() => done(undefined), timeoutMs);
        socket.on('pong', onPong);
        socket.on('close', onClose);
        socket.ping(payload);
      });
    },
  };
}

function describe(err: Error): string {
  return networkWords((err as NodeJS.ErrnoException).code) ?? oneLine(err.message);
}
