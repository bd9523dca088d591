/** Output discipline for every command: colour only on a TTY, NO_COLOR honoured. */
import { Chalk, type ChalkInstance } from 'chalk';

export interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** A terminal's width. */
  columns?: number;
}

/** Whether to colour a stream: FORCE_COLOR wins, then NO_COLOR, then whether it is a TTY. */
export function wantsColor(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function chalkFor(stream: Stream, env?: NodeJS.ProcessEnv): ChalkInstance {
  return new Chalk({ level: wantsColor(stream, env) ? 1 : 0 });
}

// Apart from chalk, so that `run` (and `--help`) need not load it.
export { stdoutClosed } from './stdout-closed.js';
