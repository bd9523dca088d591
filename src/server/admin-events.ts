/**
 * `GET /api/admin/events`: one push stream for the dashboard (server-sent events). It carries
 * the journal's lines as they are written, with their ids, so that a client that reconnects
 * asks for what it missed with `Last-Event-ID` (or `?after_id=`), and says when an employee's
 * devices on this instance change and when a scenario step is played.
 *
 * Journal lines get their ids when the store's batch is written, after the rules have moved
 * on: a recorded line only wakes the stream, which reads the lines after the last one it sent,
 * a moment later, once per batch of lines. With no stream open, a recorded line costs a size
 * check.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JournalEntry } from '../protocol/schemas.js';
import type { Logger } from './log.js';

/** What a stream may send, besides journal lines. */
export type AdminEvent =
  | { event: 'presence'; data: { emp_id: number } }
  | { event: 'scenario'; data: { name: string; step: number; did: string } };

export interface AdminFeedOptions {
  /** Journal lines after an id, oldest first; without one, the newest `limit`. */
  readJournal(afterId: number | undefined, limit: number): Promise<JournalEntry[]>;
  log: Logger;
  /** Bytes queued to one stream before it is dropped as a slow consumer (it reconnects). */
  maxBufferedBytes: number;
  /** Milliseconds between comments that keep idle proxies from closing the stream. Default 15 s. */
  keepAliveMs?: number;
  /**
   * With several instances, other instances write lines this one hears nothing of: the open
   * streams read the shared journal this often as well. Undefined: only on this instance's lines.
   */
  sharedJournalMs?: number;
  /** This instance's id in a cluster, told to each client in the `hello` event. */
  instanceId?: string;
}

export interface AdminFeed {
  /** A journal line was recorded (for `rows` employees); wakes the open streams, if any. */
  recorded(rows: number): void;
  /** Sends an event to every open stream. */
  emit(event: AdminEvent): void;
  /** Serves one stream (the caller checked the admin's token). */
  open(req: IncomingMessage, res: ServerResponse, afterId: number | undefined): void;
  /** Open streams. */
  readonly size: number;
  /** Closed: no new stream is served (the server is shutting down). */
  readonly closed: boolean;
  /** Ends every stream (on shutdown): clients reconnect to the next server. */
  close(): void;
}

/** Lines read at once; a stream further behind reads again at once. */
const PAGE = 500;
/** A client that comes back further behind than this gets a `gap` event and the newest lines. */
const CATCH_UP_MAX = 1000;
/** How long a wake waits, so that one read carries a batch of lines (and the batch is written). */
const WAKE_DELAY_MS = 25;
/** Reads again when fewer lines came than were recorded (the batch was not written yet). */
const SHORT_READ_RETRIES_MS = [50, 100, 200, 400, 800, 1600];

interface Stream {
  res: ServerResponse;
  /** Its cursor is set (after `hello`): reads may start. */
  started: boolean;
  cursor: number;
  /** Lines recorded since the last read that it has not yet seen. */
  expected: number;
  reading: boolean;
  dirty: boolean;
  shortReads: number;
  timer: NodeJS.Timeout | undefined;
  closed: boolean;
}

export function createAdminFeed(options: AdminFeedOptions): AdminFeed {
  const streams = new Set<Stream>();
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  let pendingRows = 0;
  let wakeTimer: NodeJS.Timeout | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let shared: NodeJS.Timeout | undefined;
  let readFailures = 0;
  let closed = false;

  function send(stream: Stream, text: string): void {
    if (stream.closed) return;
    if (stream.res.writableLength > options.maxBufferedBytes) {
      options.log.warn('dropping a slow dashboard stream; it reconnects and catches up');
      end(stream);
      stream.res.destroy();
      return;
    }
    stream.res.write(text);
  }

  function frame(event: string, data: unknown, id?: number): string {
    return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  function schedule(stream: Stream, ms: number): void {
    if (stream.closed || stream.timer) return;
    stream.timer = setTimeout(() => {
      stream.timer = undefined;
      void pump(stream);
    }, ms);
  }

  /** Sends the lines after the stream's cursor, page by page, one read at a time. */
  async function pump(stream: Stream): Promise<void> {
    if (stream.reading || !stream.started) {
      stream.dirty = true;
      return;
    }
    stream.reading = true;
    let failed = false;
    try {
      do {
        stream.dirty = false;
        // The journal reads `after_id: 0` as "the newest": from the start of a journal (no more
        // than CATCH_UP_MAX lines, or `start` skipped ahead), the newest enough lines are all.
        const limit = stream.cursor === 0 ? CATCH_UP_MAX + PAGE : PAGE;
        const lines = await options.readJournal(stream.cursor || undefined, limit);
        if (stream.closed) return;
        let text = '';
        for (const line of lines) text += frame('journal', line, line.id);
        if (text) send(stream, text);
        const last = lines.at(-1);
        if (last) stream.cursor = last.id;
        stream.expected = Math.max(0, stream.expected - lines.length);
        if (lines.length === limit) stream.dirty = true;
      } while (stream.dirty && !stream.closed);
      if (readFailures > 0) options.log.info('the dashboard stream reads the journal again');
      readFailures = 0;
    } catch (err) {
      failed = true;
      if (readFailures++ === 0) {
        options.log.warn('the dashboard stream cannot read the journal; trying again', {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    } finally {
      stream.reading = false;
    }
    if (failed) {
      schedule(stream, Math.min(5000, 250 * 2 ** Math.min(readFailures, 5)));
    } else if (stream.expected > 0) {
      const delay = SHORT_READ_RETRIES_MS[stream.shortReads++];
      if (delay === undefined) {
        // Lines that never came: dropped by a failing store, or trimmed. Stop waiting for them.
        stream.expected = 0;
        stream.shortReads = 0;
      } else {
        schedule(stream, delay);
      }
    } else {
      stream.shortReads = 0;
    }
  }

  function wakeAll(): void {
    wakeTimer = undefined;
    const rows = pendingRows;
    pendingRows = 0;
    for (const stream of streams) {
      stream.expected += rows;
      stream.shortReads = 0;
      void pump(stream);
    }
  }

  function end(stream: Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.timer);
    streams.delete(stream);
    if (streams.size === 0) {
      clearInterval(keepAlive);
      clearInterval(shared);
      keepAlive = undefined;
      shared = undefined;
    }
  }

  function startTimers(): void {
    keepAlive ??= setInterval(() => {
      for (const stream of streams) send(stream, ': keep-alive\n\n');
    }, keepAliveMs);
    keepAlive.unref();
    if (options.sharedJournalMs !== undefined) {
      shared ??= setInterval(() => {
        for (const stream of streams) void pump(stream);
      }, options.sharedJournalMs);
      shared.unref();
    }
  }

  async function start(stream: Stream, afterId: number | undefined): Promise<void> {
    try {
      const newest = (await options.readJournal(undefined, 1)).at(-1)?.id ?? 0;
      if (stream.closed) return;
      let from = afterId ?? newest;
      let gap: number | undefined;
      // Ids grow by one a line (give or take a rolled-back write): far behind, skip ahead.
      if (from > newest) from = newest;
      else if (newest - from > CATCH_UP_MAX) {
        gap = from;
        from = newest - CATCH_UP_MAX;
      }
      stream.cursor = from;
      send(stream, frame('hello', { last_id: newest, instance: options.instanceId ?? null }));
      if (gap !== undefined) send(stream, frame('gap', { after_id: gap, resumed_after_id: from }));
      stream.started = true;
      // Lines written while the cursor was being found woke it already (dirty).
      if (from < newest || stream.dirty) await pump(stream);
    } catch (err) {
      options.log.warn('the dashboard stream cannot read the journal; closing it', {
        error: err instanceof Error ? err.message : String(err),
      });
      end(stream);
      stream.res.end();
    }
  }

  return {
    recorded(rows) {
      if (streams.size === 0) return;
      pendingRows += rows;
      wakeTimer ??= setTimeout(wakeAll, WAKE_DELAY_MS);
    },
    emit({ event, data }) {
      if (streams.size === 0) return;
      const text = frame(event, data);
      for (const stream of streams) send(stream, text);
    },
    open(req, res, afterId) {
      const stream: Stream = {
        res,
        started: false,
        cursor: 0,
        expected: 0,
        reading: false,
        dirty: false,
        shortReads: 0,
        timer: undefined,
        closed: false,
      };
      streams.add(stream);
      startTimers();
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        // nginx and friends: pass each event on as it comes.
        'X-Accel-Buffering': 'no',
      });
      res.flushHeaders();
      // A client that goes away ends its stream; an error on the socket is its end too.
      const gone = (): void => end(stream);
      req.on('close', gone);
      res.on('close', gone);
      res.on('error', gone);
      void start(stream, afterId);
    },
    get size() {
      return streams.size;
    },
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      clearTimeout(wakeTimer);
      wakeTimer = undefined;
      for (const stream of [...streams]) {
        end(stream);
        stream.res.end();
      }
    },
  };
}
