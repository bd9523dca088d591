/**
 * The operator's log: one line per event, readable and coloured on a terminal, or one JSON
 * object per line with `--log-format json`. Lines are buffered and written once per turn of the
 * event loop, so logging never adds a synchronous write to a hot path.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { EventSink, OfferEvent } from '../offers/ports.js';

export type LogFormat = 'pretty' | 'json';

export interface Logger extends EventSink {
  /** An event printed whatever the level (the `listening` line scripts wait for). */
  always(e: OfferEvent): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  flush(): void;
}

export interface LoggerOptions {
  format?: LogFormat;
  /** Colour the pretty format (the CLI decides from the TTY and NO_COLOR). */
  color?: boolean;
  /** Where event and info lines go (stdout in the CLI). */
  out?: { write(chunk: string): unknown };
  /** Where warnings and errors go (stderr in the CLI). */
  err?: { write(chunk: string): unknown };
  /** Drop everything below this level. */
  level?: 'info' | 'warn' | 'error' | 'silent';
  clock?: () => Date;
}

const LEVELS = { info: 0, warn: 1, error: 2, silent: 3 } as const;

/** A logger that says nothing, for library use and tests. */
export const silentLogger: Logger = {
  always() {},
  event() {},
  info() {},
  warn() {},
  error() {},
  flush() {},
};

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'pretty';
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const threshold = LEVELS[options.level ?? 'info'];
  const now = options.clock ?? (() => new Date());
  const c = new Chalk({ level: options.color ? 1 : 0 });
  let outBuf = '';
  let errBuf = '';
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    if (outBuf) {
      out.write(outBuf);
      outBuf = '';
    }
    if (errBuf) {
      err.write(errBuf);
      errBuf = '';
    }
  };

  const emit = (toErr: boolean, line: string): void => {
    if (toErr) errBuf += `${line}\n`;
    else outBuf += `${line}\n`;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush).unref();
    }
  };

  const write = (
    level: 'info' | 'warn' | 'error',
    event: string,
    fields: Record<string, unknown>,
    message?: string,
    force = false,
  ): void => {
    if (LEVELS[level] < threshold && !force) return;
    const time = now();
    if (format === 'json') {
      const record = {
        time: time.toISOString(),
        level,
        event,
        ...(message ? { message } : {}),
        ...fields,
      };
      emit(level !== 'info', JSON.stringify(record));
      return;
    }
    emit(level !== 'info', prettyLine(c, time, level, event, fields, message));
  };

  return {
    always({ event, ...fields }: OfferEvent) {
      write('info', event, fields, undefined, true);
    },
    event(record: OfferEvent) {
      // Checked first: a quiet server does not copy the fields out of every event.
      if (LEVELS.info < threshold) return;
      const { event, ...fields } = record;
      write('info', event, fields);
    },
    info(message, fields = {}) {
      write('info', 'info', fields, message);
    },
    warn(message, fields = {}) {
      write('warn', 'warning', fields, message);
    },
    error(message, fields = {}) {
      write('error', 'error', fields, message);
    },
    flush,
  };
}

const EVENT_STYLE: Record<string, (c: ChalkInstance) => ChalkInstance> = {
  connect: (c) => c.green,
  disconnect: (c) => c.yellow,
  offer: (c) => c.cyan,
  answer: (c) => c.magenta,
  assigned: (c) => c.green.bold,
  taken: (c) => c.yellow,
  warning: (c) => c.yellow.bold,
  error: (c) => c.red.bold,
};

function prettyLine(
  c: ChalkInstance,
  time: Date,
  level: string,
  event: string,
  fields: Record<string, unknown>,
  message?: string,
): string {
  const style = EVENT_STYLE[level === 'info' ? event : level === 'warn' ? 'warning' : 'error'];
  const label = (style ? style(c) : c.white)(event.padEnd(13));
  const clock = c.dim(time.toISOString().slice(11, 23));
  const detail = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${c.dim(`${k}=`)}${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return [clock, label, message, detail].filter(Boolean).join(' ');
}
