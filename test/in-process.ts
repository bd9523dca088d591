/**
 * Runs a `shiftctl` command inside the test process: the program `bin/shiftctl.js` runs, built
 * and parsed the same way, with stdout and stderr captured (pipes, so not TTYs) and the user's
 * environment. What it returns has the shape of a real run's `Exit`, so a test asserts what a
 * user sees either way. A process costs about a second of CPU to start; this, milliseconds.
 *
 * Each command keeps a test through the real binary (cli-harness.ts): exit codes and the
 * separation of stdout and stderr end to end. `serve` and `listen` at a terminal run there
 * only: they install signal and crash handlers, and exit the process.
 */

import { withIo } from '../src/cli/io.js';
import { execute } from '../src/cli/main.js';
import { type Exit, userEnv, within } from './cli-harness.js';

/** What a pipe receives, as text. */
class Captured {
  readonly isTTY = false;
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Thrown by the stand-in for `process.exit`, which must not end the test process. */
class ExitCalled extends Error {
  constructor(readonly code: number | string | null | undefined) {
    super(`process.exit(${code}) called in-process`);
  }
}

// One run at a time: the exit code and the environment are the process's.
let queue: Promise<unknown> = Promise.resolve();

/** `shiftctl ...args` in-process, with extra environment variables; resolves when it ends. */
export function runInProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  const result = queue.then(() => runNow(args, env));
  queue = result.catch(() => undefined);
  return within(result, `in-process shiftctl ${args.join(' ')} to end`);
}

/** Like `run` of cli-harness.ts, in-process. */
export function inProcess(...args: string[]): Promise<Exit> {
  return runInProcess(args);
}

/** Like `runWithEnv` of cli-harness.ts, in-process. */
export function inProcessWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Exit> {
  return runInProcess(args, env);
}

async function runNow(args: string[], extraEnv: NodeJS.ProcessEnv): Promise<Exit> {
  const stdout = new Captured();
  const stderr = new Captured();
  const restoreEnv = setEnv({ ...userEnv(), ...extraEnv });
  const savedExitCode = process.exitCode;
  const realExit = process.exit;
  let exitCalled: ExitCalled | undefined;
  process.exitCode = undefined;
  process.exit = ((code?: number | string | null) => {
    exitCalled = new ExitCalled(code);
    throw exitCalled;
  }) as typeof process.exit;
  try {
    await withIo({ stdout, stderr, stdin: { isTTY: false } }, () =>
      execute([process.execPath, 'shiftctl', ...args]),
    );
    if (exitCalled) {
      throw new Error(
        `shiftctl ${args.join(' ')} called process.exit(${exitCalled.code}): run it with the real binary`,
      );
    }
    const code = process.exitCode ?? 0;
    return { code: Number(code), signal: null, stdout: stdout.text, stderr: stderr.text };
  } finally {
    process.exit = realExit;
    process.exitCode = savedExitCode;
    restoreEnv();
  }
}

/**
 * Makes `process.env` exactly `env`, in place (so that TZ takes effect), and returns what puts
 * it back.
 */
function setEnv(env: NodeJS.ProcessEnv): () => void {
  const saved = { ...process.env };
  const apply = (target: NodeJS.ProcessEnv) => {
    for (const key of Object.keys(process.env)) {
      if (!(key in target)) delete process.env[key];
    }
    for (const [key, value] of Object.entries(target)) {
      if (value === undefined) delete process.env[key];
      else if (process.env[key] !== value) process.env[key] = value;
    }
  };
  apply(env);
  return () => apply(saved);
}
