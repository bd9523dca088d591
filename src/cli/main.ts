/**
 * The `shiftctl` command line: wiring only. Each command is declared in commands/ (arguments,
 * options, help) and its implementation is imported only when it runs, so `shiftctl --help`
 * and a usage error load commander and little else.
 */
import { Command, CommanderError } from 'commander';
import { ApiError, EXIT, isShiftctlError, type ShiftctlError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerAdmin } from './commands/admin.js';
import { registerBench } from './commands/bench.js';
import { registerDocs } from './commands/docs.js';
import { registerHistory } from './commands/history.js';
import { registerListen } from './commands/listen.js';
import { registerPending } from './commands/pending.js';
import { registerPushSink } from './commands/push-sink.js';
import { registerRespond } from './commands/respond.js';
import { registerSendOffer } from './commands/send-offer.js';
import { registerServe } from './commands/serve.js';
import { registerStats } from './commands/stats.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';
import { registerVerify } from './commands/verify.js';
import { io } from './io.js';
import { stdoutClosed } from './stdout-closed.js';

export function buildProgram(): Command {
  const program = new Command('shiftctl')
    .description('Reference server, terminal client and test tools for real-time shift offers')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      // Usage errors start like every other error of the binary.
      outputError: (text, write) => write(text.replace(/^error: /, 'shiftctl: ')),
      // Help and usage errors go where the commands write (see io.ts).
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's own choice (a terminal's width, else 80), for those streams.
      getOutHelpWidth: () => (io.stdout.isTTY && io.stdout.columns) || 80,
      getErrHelpWidth: () => (io.stderr.isTTY && io.stderr.columns) || 80,
    })
    .exitOverride();
  registerServe(program);
  registerListen(program);
  registerSendOffer(program);
  registerPending(program);
  registerHistory(program);
  registerRespond(program);
  registerStatus(program);
  registerStats(program);
  registerAdmin(program);
  registerToken(program);
  registerBench(program);
  registerDocs(program);
  registerVerify(program);
  registerPushSink(program);
  return program;
}

/** Runs the CLI; sets the exit code (2 for usage mistakes, 1 for failures) instead of throwing. */
export async function run(argv: string[]): Promise<void> {
  // A reader that stops early (`shiftctl log --follow | head`) closes the pipe: stop quietly,
  // as Unix tools do, instead of dying on an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' && stdoutClosed.handler) {
      stdoutClosed.handler();
      return;
    }
    if (err.code !== 'EPIPE') {
      process.stderr.write(`shiftctl: cannot write output: ${err.message}\n`);
    }
    process.exit(err.code === 'EPIPE' ? EXIT.OK : EXIT.FAILURE);
  });
  await execute(argv);
}

/**
 * Parses `argv` and runs the command, writing through `io`; sets `process.exitCode` (2 for
 * usage mistakes, 1 for failures) instead of throwing. `run` is this plus the process's EPIPE
 * policy; the tests call it in-process with their own streams.
 */
export async function execute(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message.
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    if (isShiftctlError(err)) {
      io.stderr.write(`shiftctl: ${err.message}\n`);
      // With --json, the failure is also data: one line of the shape every command uses.
      if (argv.includes('--json') && !err.shownAsJson)
        io.stdout.write(`${JSON.stringify(jsonError(err))}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    io.stderr.write(
      `shiftctl: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`,
    );
    process.exitCode = EXIT.FAILURE;
  }
}

/**
 * A failure as one `--json` line, the shape `send-offer --json` uses for each refusal: the
 * server's HTTP status, its code and its words when it answered; shiftctl's own code otherwise.
 */
export function jsonError(err: ShiftctlError): {
  error: { status?: number; code: string | null; message: string };
} {
  const api = err instanceof ApiError ? err : err.cause instanceof ApiError ? err.cause : undefined;
  if (api) {
    return {
      error: { status: api.httpStatus, code: api.serverCode ?? null, message: api.serverMessage },
    };
  }
  return { error: { code: err.code, message: err.message } };
}
