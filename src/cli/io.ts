/**
 * Where the commands write: the process's stdout and stderr, unless `withIo` has put other
 * streams in for one run (the tests run most commands in-process this way). Commands look the
 * streams up when they write, through `io`, never keeping `process.stdout` themselves.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Stream } from './output.js';

export interface Io {
  stdout: Stream;
  stderr: Stream;
  /** Only whether it is a terminal: a prompt reads the process's own stdin. */
  stdin: { isTTY?: boolean };
}

const injected = new AsyncLocalStorage<Io>();

/** The streams of the run in progress: injected ones inside `withIo`, the process's otherwise. */
export const io: Io = {
  get stdout() {
    return injected.getStore()?.stdout ?? process.stdout;
  },
  get stderr() {
    return injected.getStore()?.stderr ?? process.stderr;
  },
  get stdin() {
    return injected.getStore()?.stdin ?? process.stdin;
  },
};

/** Runs `fn` (and everything it starts) with `streams` as the commands' streams. */
export function withIo<T>(streams: Io, fn: () => T): T {
  return injected.run(streams, fn);
}
