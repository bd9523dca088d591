/**
 * The dashboard's push stream: `GET /api/admin/events` (server-sent events) read with fetch(),
 * so that the admin's token goes in the Authorization header, never in a URL (EventSource
 * cannot send headers). It reconnects by itself after any break, on a 1, 2, 4, 8, then 15 s
 * schedule with no end, and asks for the lines it missed with `Last-Event-ID`.
 */

export type StreamState =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'reconnecting'; attempt: number; delaySeconds: number }
  | { state: 'refused'; status: number; message: string }
  | { state: 'closed' };

export interface StreamEvent {
  event: string;
  data: unknown;
  id: number | undefined;
}

export interface EventStreamOptions {
  token(): string | undefined;
  /** The last journal id seen, sent as `Last-Event-ID`; undefined: only what comes from now. */
  lastId(): number | undefined;
  onState(state: StreamState): void;
  onEvent(event: StreamEvent): void;
  /** Default `/api/admin/events`. */
  url?: string;
}

export interface EventStream {
  start(): void;
  /** Skips the wait of a reconnect. */
  reconnectNow(): void;
  stop(): void;
}

const DELAYS_S = [1, 2, 4, 8, 15];
/** The server sends a comment every 15 s: silence this long means the stream is dead. */
const SILENCE_MS = 45_000;

/** The delay before reconnect attempt `attempt` (1-based). */
export function streamDelaySeconds(attempt: number): number {
  return DELAYS_S[Math.min(attempt, DELAYS_S.length) - 1] as number;
}

/** Splits server-sent events out of text; returns the events and the unfinished rest. */
export function parseEvents(text: string): { events: StreamEvent[]; rest: string } {
  const events: StreamEvent[] = [];
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    let id: number | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id' && /^\d+$/.test(value)) id = Number(value);
    }
    if (data.length === 0) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.join('\n'));
    } catch {
      continue;
    }
    events.push({ event, data: parsed, id });
  }
  return { events, rest };
}

export function createEventStream(options: EventStreamOptions): EventStream {
  const url = options.url ?? '/api/admin/events';
  let running = false;
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  function retry(): void {
    if (!running) return;
    failures++;
    const delaySeconds = streamDelaySeconds(failures);
    options.onState({ state: 'reconnecting', attempt: failures, delaySeconds });
    timer = setTimeout(connect, delaySeconds * 1000);
  }

  async function connect(): Promise<void> {
    timer = undefined;
    if (!running) return;
    options.onState({ state: 'connecting' });
    const abort = new AbortController();
    controller = abort;
    let silence: ReturnType<typeof setTimeout> | undefined;
    const heard = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => abort.abort(), SILENCE_MS);
    };
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      const bearer = options.token();
      if (bearer) headers.Authorization = `Bearer ${bearer}`;
      const last = options.lastId();
      if (last !== undefined) headers['Last-Event-ID'] = String(last);
      heard();
      // No `cache` option: the server's Cache-Control (no-store) keeps it out of caches.
      const res = await fetch(url, {
        headers,
        credentials: 'omit',
        signal: abort.signal,
      });
      if (res.status === 401 || res.status === 403) {
        const body = (await res.json().catch(() => ({}))) as { message?: string };
        running = false;
        options.onState({
          state: 'refused',
          status: res.status,
          message: body.message ?? `HTTP ${res.status}`,
        });
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let opened = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        heard();
        const { events, rest } = parseEvents(buffer + value);
        buffer = rest;
        for (const event of events) {
          if (!opened && event.event === 'hello') {
            opened = true;
            failures = 0;
            options.onState({ state: 'live' });
          }
          options.onEvent(event);
        }
      }
    } catch {
      // refused, cut off or silent: reconnect below
    } finally {
      clearTimeout(silence);
      if (controller === abort) controller = undefined;
    }
    if (running) retry();
  }

  return {
    start() {
      if (running) return;
      running = true;
      failures = 0;
      void connect();
    },
    reconnectNow() {
      if (!running || !timer) return;
      clearTimeout(timer);
      void connect();
    },
    stop() {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      controller?.abort();
      options.onState({ state: 'closed' });
    },
  };
}
