/**
 * The app's WebSocket in a browser: `/ws/{emp_id}`, pings answered, and reconnects after an
 * unexpected close or a failed connect on the app's schedule (2, 4, 8, 16, then 30 s, at most
 * 10 attempts; a connect resets the count), as src/client/connection.ts does for `listen`.
 * A browser does not say why an upgrade was refused, so a bad token is found by the HTTP
 * calls made before connecting; a close for policy (1008, token expired) ends the attempts.
 */
import { DEFAULT_MAX_RETRIES, reconnectDelaySeconds } from '../client/backoff.js';

export type SocketState =
  | { state: 'connecting' }
  | { state: 'connected'; reconnected: boolean }
  | { state: 'reconnecting'; attempt: number; maxRetries: number; delaySeconds: number }
  | { state: 'failed'; attempts: number; refused: boolean }
  | { state: 'closed' };

export interface SocketOptions {
  /** The URL to open, asked again at every attempt (the token may have changed). */
  url(): string;
  maxRetries?: number;
  onState(state: SocketState): void;
  /** Every parsed message but `ping`, which is answered here. */
  onMessage(message: unknown): void;
}

export interface AppSocket {
  start(): void;
  /** Closes on purpose: no reconnect follows. */
  close(): void;
}

const PONG = JSON.stringify({ type: 'pong' });
const POLICY_VIOLATION = 1008;

export function createSocket(options: SocketOptions): AppSocket {
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  let ws: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let everConnected = false;
  let stopped = true;

  function open(): void {
    timer = undefined;
    options.onState({ state: 'connecting' });
    const socket = new WebSocket(options.url());
    ws = socket;
    socket.onopen = () => {
      failures = 0;
      options.onState({ state: 'connected', reconnected: everConnected });
      everConnected = true;
    };
    socket.onmessage = (event) => {
      let message: unknown;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return; // the app ignores what it cannot read
      }
      if ((message as { type?: unknown } | null)?.type === 'ping') {
        socket.send(PONG);
        return;
      }
      options.onMessage(message);
    };
    socket.onclose = (event) => {
      if (ws !== socket) return;
      ws = undefined;
      if (stopped) {
        options.onState({ state: 'closed' });
        return;
      }
      if (event.code === POLICY_VIOLATION) {
        stopped = true;
        options.onState({ state: 'failed', attempts: failures, refused: true });
        return;
      }
      failures++;
      if (failures > maxRetries) {
        stopped = true;
        options.onState({ state: 'failed', attempts: maxRetries, refused: false });
        return;
      }
      const delaySeconds = reconnectDelaySeconds(failures);
      options.onState({ state: 'reconnecting', attempt: failures, maxRetries, delaySeconds });
      timer = setTimeout(open, delaySeconds * 1000);
    };
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      failures = 0;
      open();
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (ws) ws.close(1000, 'client closing');
      else options.onState({ state: 'closed' });
    },
  };
}
