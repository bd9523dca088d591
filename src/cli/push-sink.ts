/**
 * `shiftctl push-sink` (declared in commands/push-sink.ts): receives webhook pushes and prints
 * each, until Ctrl-C. The URL and diagnostics go to stderr, the pushes to stdout.
 */
import { ShiftctlError } from '../errors.js';
import type { PushMessage } from '../push/message.js';
import { type ReceivedPush, startPushSink } from '../push/sink.js';
import { io } from './io.js';
import { chalkFor } from './output.js';

export interface PushSinkFlags {
  port: number;
  host: string;
  secret?: string;
  fail: number;
  json?: boolean;
}

export async function pushSink(flags: PushSinkFlags): Promise<void> {
  if (flags.secret === '') throw new ShiftctlError('E_USAGE', '--secret must not be empty.');
  const out = io.stdout;
  const err = io.stderr;
  const print = (push: ReceivedPush): void => {
    if (flags.json) out.write(`${JSON.stringify(jsonOf(push))}\n`);
    else out.write(pretty(push));
    if (push.signature.startsWith('invalid')) {
      const c = chalkFor(err);
      err.write(
        `${c.red.bold('✖ INVALID SIGNATURE')} (${push.signature.slice('invalid: '.length)}) on push ${push.pushId ?? '(no id)'}: answered 401. Is --secret the server's push secret?\n`,
      );
    }
  };
  let sink: Awaited<ReturnType<typeof startPushSink>>;
  try {
    sink = await startPushSink({
      port: flags.port,
      host: flags.host,
      secret: flags.secret,
      fail: flags.fail,
      onPush: print,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ShiftctlError(
      'E_LISTEN',
      code === 'EADDRINUSE'
        ? `Port ${flags.port} on ${flags.host} is already in use; choose another with --port.`
        : `Cannot listen on ${flags.host}:${flags.port}: ${(e as Error).message}`,
    );
  }
  const c = chalkFor(err);
  // The URL alone at the end of its line: a script (or a double click) takes it whole.
  const notes = [
    flags.secret ? '  Checking signatures: a push without a valid one is answered 401.' : '',
    flags.fail > 0 ? `  Failing the first ${flags.fail} pushes with 500, to show the retries.` : '',
  ].filter(Boolean);
  err.write(
    `${c.bold('push-sink')} is receiving pushes at ${c.cyan(sink.url)}\n` +
      notes.map((n) => `${n}\n`).join('') +
      `  Start the server with:  npx shiftctl serve --push-webhook ${sink.url}\n` +
      `${c.dim('Press Ctrl-C to stop.')}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sink.close();
}

function jsonOf(push: ReceivedPush): Record<string, unknown> {
  return {
    received_at: new Date(push.at).toISOString(),
    push_id: push.pushId,
    attempt: push.attempt,
    signature: push.signature,
    answered: push.answered,
    ...(typeof push.body === 'string' ? { text: push.body } : push.body),
  };
}

function pretty(push: ReceivedPush): string {
  const c = chalkFor(io.stdout);
  const time = new Date(push.at).toISOString().slice(11, 23);
  const answered = push.answered === 200 ? c.green('200') : c.red(String(push.answered));
  const signature =
    push.signature === 'valid'
      ? c.green('signature ok')
      : push.signature === 'unsigned'
        ? c.dim('unsigned')
        : c.red.bold(`SIGNATURE ${push.signature.toUpperCase()}`);
  const head = `${c.dim(time)} push ${push.pushId ?? '(no id)'} attempt ${push.attempt ?? '?'}  ${signature}  answered ${answered}\n`;
  if (typeof push.body === 'string')
    return `${head}  ${c.yellow('not JSON:')} ${push.body.slice(0, 200)}\n`;
  const m = (push.body as Partial<PushMessage>).message;
  if (!m)
    return `${head}  ${c.yellow('no "message":')} ${JSON.stringify(push.body).slice(0, 200)}\n`;
  const platform = m.android ? 'android' : m.apns ? 'ios' : '?';
  const data = Object.entries(m.data ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  return (
    `${head}  to ${platform} token ${m.token}\n` +
    `  ${c.bold(m.notification?.title ?? '')}\n` +
    `  ${m.notification?.body ?? ''}\n` +
    `  ${c.dim('data')} ${data}\n`
  );
}
