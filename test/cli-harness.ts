/** Runs the real `shiftctl` binary as a user would: piped, or (later) in a pseudo-terminal. */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { IPty } from 'node-pty';
import * as pty from 'node-pty';
import { afterEach } from 'vitest';
import { withTimeout } from './helpers.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'shiftctl.js');
export const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
/**
 * How long a spawned command may take to print or exit. A bound, not a delay: a command that
 * runs as it should answers in well under a second, but four test files at once on two cores
 * (a browser, three servers with 1,000 sockets) have stalled a start for over 10 s.
 */
export const WAIT_MS = 20_000;
export const ESC = '\u001b[';
export const STACK_FRAME = '    at ';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return withTimeout(promise, ms, what);
}

/** A user's shell: no forced or disabled colour, no SHIFTCTL_* defaults. */
export function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ['FORCE_COLOR', 'NO_COLOR', 'SHIFTCTL_PORT', 'SHIFTCTL_HOST', 'SHIFTCTL_DB']) {
    delete env[key];
  }
  return env;
}

const running = new Set<Cli>();
const workDirs: string[] = [];

/**
 * A fresh working directory for one run: a command that writes beside itself (`serve` without
 * `--db` writes ./shiftctl.db) writes there, never in the repository.
 */
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shiftctl-cwd-'));
  workDirs.push(dir);
  return dir;
}

/** One run of `node bin/shiftctl.js ...` with stdout and stderr piped (so not a TTY). */
export class Cli {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly done: Promise<Exit>;
  stdout = '';
  stderr = '';
  private exited = false;
  private waiters: Array<() => void> = [];

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: workDir(),
      env: { ...userEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this);
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.wake();
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.wake();
    });
    this.done = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exited = true;
        running.delete(this);
        this.wake();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Complete lines written to stdout so far. */
  lines(): string[] {
    return this.stdout.split('\n').slice(0, -1);
  }

  /** Waits for a complete stdout line that matches (written before or after the call). */
  line(match: (line: string) => boolean, what: string): Promise<string> {
    return within(
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const found = this.lines().find(match);
          if (found !== undefined) return resolve(found);
          if (this.exited) {
            return reject(new Error(`exited before ${what}; stderr: ${this.stderr}`));
          }
          this.waiters.push(check);
        };
        check();
      }),
      what,
    );
  }

  /** Waits until stderr matches (a command that prints its address there). */
  errMatch(pattern: RegExp, what: string): Promise<RegExpExecArray> {
    return within(
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const found = pattern.exec(this.stderr);
          if (found) return resolve(found);
          if (this.exited)
            return reject(new Error(`exited before ${what}; stderr: ${this.stderr}`));
          this.waiters.push(check);
        };
        check();
      }),
      what,
    );
  }

  /** Sends a signal and waits for the process to end. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    this.child.kill(signal);
    return within(this.done, `exit after ${signal}`);
  }
}

/** Runs a command that is expected to end by itself. */
export function run(...args: string[]): Promise<Exit> {
  return runWithEnv({}, ...args);
}

/** Like `run`, with extra environment variables (e.g. `SHIFTCTL_URL`, `TZ`). */
export function runWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Exit> {
  return within(new Cli(args, env).done, `shiftctl ${args.join(' ')} to exit`);
}

/** Starts `serve --log-format json` and waits for its "listening" line to learn the URL. */
export function serveJson(...args: string[]): Promise<{ cli: Cli; url: string }> {
  return serveJsonWith({}, ...args);
}

/** `serveJson` with extra environment variables (e.g. `SHIFTCTL_SECRET`). */
export async function serveJsonWith(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ cli: Cli; url: string }> {
  const cli = new Cli(['serve', '--port', '0', '--log-format', 'json', ...args], env);
  const line = await cli.line((l) => l.includes('"event":"listening"'), 'the "listening" line');
  return { cli, url: (JSON.parse(line) as { url: string }).url };
}

afterEach(async () => {
  await Promise.all([...running].map((cli) => cli.stop('SIGKILL')));
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]|\u001b\][^\u0007]*\u0007|\u001b[()][A-Z0-9]|\u0007/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: a terminal's title sequence ends in BEL
const TITLE = /\u001b\][^\u0007]*\u0007/g;

/** `node bin/shiftctl.js ...` in a pseudo-terminal: what a person at a terminal sees and types. */
export class PtyCli {
  private readonly term: IPty;
  private output = '';
  private waiters: Array<() => void> = [];
  exit?: { code: number; signal?: number };
  readonly exited: Promise<{ code: number; signal?: number }>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.term = pty.spawn(process.execPath, [BIN, ...args], {
      cwd: workDir(),
      cols: 120,
      rows: 40,
      env: { ...userEnv(), TERM: 'xterm-256color', ...env } as Record<string, string>,
    });
    runningPtys.add(this);
    this.term.onData((data) => {
      this.output += data;
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      this.term.onExit(({ exitCode, signal }) => {
        this.exit = { code: exitCode, signal };
        runningPtys.delete(this);
        this.wake();
        resolve(this.exit);
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Everything shown so far, without colours and cursor movements. */
  get screen(): string {
    return this.output.replace(ANSI, '').replace(/\r/g, '');
  }

  /** Waits until the screen shows `text` (`count` times, default once). */
  waitFor(text: string | RegExp, count = 1, ms = WAIT_MS): Promise<void> {
    const seen = () =>
      typeof text === 'string'
        ? this.screen.split(text).length - 1
        : (this.screen.match(new RegExp(text.source, `${text.flags.replace('g', '')}g`)) ?? [])
            .length;
    return within(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (seen() >= count) return resolve();
          if (this.exit) {
            return reject(
              new Error(`exited (${this.exit.code}) before showing ${text}:\n${this.screen}`),
            );
          }
          this.waiters.push(check);
        };
        check();
      }),
      `${String(text)} on screen; it shows:\n${this.screen}`,
      ms,
    );
  }

  /** Everything written so far, colours and bells included. */
  get raw(): string {
    return this.output;
  }

  /** How many times the terminal bell rang so far (a BEL that ends an escape sequence is not one). */
  get bells(): number {
    return this.output.replace(TITLE, '').split('\u0007').length - 1;
  }

  /** Waits until `check` holds for what was written so far (colours and bells included). */
  waitUntil(check: (raw: string) => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return within(
      new Promise<void>((resolve, reject) => {
        const test = () => {
          if (check(this.output)) return resolve();
          if (this.exit) return reject(new Error(`exited (${this.exit.code}) before ${what}`));
          this.waiters.push(test);
        };
        test();
      }),
      `${what}; it shows:\n${this.screen}`,
      ms,
    );
  }

  /** How many times `text` is on the screen so far. */
  count(text: string): number {
    return this.screen.split(text).length - 1;
  }

  type(keys: string): void {
    this.term.write(keys);
  }

  /** Sends the process a signal, as `kill` from another terminal would. */
  signal(name: 'SIGTERM' | 'SIGHUP'): void {
    this.term.kill(name);
  }

  waitExit(ms = WAIT_MS): Promise<{ code: number; signal?: number }> {
    return within(this.exited, 'the program to exit', ms);
  }

  kill(): void {
    this.term.kill('SIGKILL');
  }
}

const runningPtys = new Set<PtyCli>();

afterEach(async () => {
  await Promise.all(
    [...runningPtys].map((p) => {
      p.kill();
      return p.exited;
    }),
  );
  // After both kinds of process have ended.
  for (const dir of workDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
