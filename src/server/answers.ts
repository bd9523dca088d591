/**
 * Answers in flight, per socket. With pipelining, Node queues each request's answer behind the
 * one being written; whoever wants to write on the socket itself (a parse error's answer, a
 * request handed back to the HTTP server after an h2c upgrade) must know whether any is left.
 * Node keeps that in internals (`socket._httpMessage`, its private queue); this counts it from
 * public events instead.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface AnswersInFlight {
  /** Whether an answer on this socket is being written or waits its turn. */
  busy(socket: Duplex): boolean;
  /** Calls `fn` once every answer on this socket has finished (at once when none is left). */
  whenIdle(socket: Duplex, fn: () => void): void;
  /**
   * The answer on this socket not begun yet while it is the only one open: its request is the
   * one still arriving (a body that stalls), which the request timeout may answer.
   */
  unbegun(socket: Duplex): ServerResponse | undefined;
}

interface Count {
  open: number;
  idle: Array<() => void>;
  /** The latest answer started on the socket. */
  last: ServerResponse | undefined;
}

/** Counts the answers the server starts and finishes on each of its sockets. */
export function trackAnswers(server: Server): AnswersInFlight {
  const counts = new WeakMap<Duplex, Count>();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let count = counts.get(socket);
    if (!count) {
      count = { open: 0, idle: [], last: undefined };
      counts.set(socket, count);
    }
    count.open++;
    count.last = res;
    const settled = count;
    // 'close' comes after 'finish' (by then Node has handed the socket to the next answer), and
    // also for an answer cut short.
    res.once('close', () => {
      if (--settled.open > 0 || settled.idle.length === 0) return;
      const idle = settled.idle;
      settled.idle = [];
      for (const fn of idle) fn();
    });
  });

  return {
    busy: (socket) => (counts.get(socket)?.open ?? 0) > 0,
    unbegun(socket) {
      const count = counts.get(socket);
      return count?.open === 1 && count.last && !count.last.headersSent ? count.last : undefined;
    },
    whenIdle(socket, fn) {
      const count = counts.get(socket);
      if (count && count.open > 0) count.idle.push(fn);
      else fn();
    },
  };
}
