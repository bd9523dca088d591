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
}

interface Count {
  open: number;
  idle: Array<() => void>;
}

/** Counts the answers the server starts and finishes on each of its sockets. */
export function trackAnswers(server: Server): AnswersInFlight {
  const counts = new WeakMap<Duplex, Count>();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let count = counts.get(socket);
    if (!count) {
      count = { open: 0, idle: [] };
      counts.set(socket, count);
    }
    count.open++;
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
    whenIdle(socket, fn) {
      const count = counts.get(socket);
      if (count && count.open > 0) count.idle.push(fn);
      else fn();
    },
  };
}
