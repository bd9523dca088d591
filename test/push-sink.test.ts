/**
 * `shiftctl push-sink`: the receiver in-process behind a real server (signatures checked,
 * failures on purpose retried), and the real binary once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { signatureHeaders } from '../src/push/signature.js';
import { type ReceivedPush, startPushSink } from '../src/push/sink.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { Cli, serveJsonWith } from './cli-harness.js';
import { DEFAULT_WAIT_MS, get, post, startServer, withTimeout } from './helpers.js';
import { inProcess } from './in-process.js';

const TOKEN = 'fcm-token-AAAA:APA91b-0123456789';
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const c of opened.splice(0).reverse()) await c.close();
});

async function serverFor(url: string, pushSecret: string): Promise<ShiftServer> {
  const server = await startServer({
    pushWebhook: url,
    pushSecret,
    pushAfterMs: 10,
    pushRetry: { attempts: 3, firstMs: 10, maxMs: 10 },
  });
  opened.push(server);
  await post(server, '/api/devices/123', { token: TOKEN, platform: 'android' });
  return server;
}

function collector() {
  const pushes: ReceivedPush[] = [];
  let waiters: Array<() => void> = [];
  return {
    pushes,
    onPush(p: ReceivedPush) {
      pushes.push(p);
      const wake = waiters;
      waiters = [];
      for (const w of wake) w();
    },
    count(n: number) {
      return withTimeout(
        new Promise<ReceivedPush[]>((resolve) => {
          const check = () => (pushes.length >= n ? resolve(pushes) : waiters.push(check));
          check();
        }),
        DEFAULT_WAIT_MS,
        `${n} pushes`,
      );
    },
  };
}

describe('push-sink', () => {
  it('checks signatures, fails the first pushes on purpose, and the server retries them', async () => {
    const got = collector();
    const sink = await startPushSink({ secret: 'whsec', fail: 1, onPush: got.onPush });
    opened.push(sink);
    const server = await serverFor(sink.url, 'whsec');
    await post(server, '/api/test/send_offer/123?shift_id=456');
    const [first, second] = await got.count(2);
    expect(first).toMatchObject({ attempt: 1, signature: 'valid', answered: 500 });
    expect(second).toMatchObject({ attempt: 2, signature: 'valid', answered: 200 });
    expect(second?.body).toMatchObject({ message: { token: TOKEN, data: { shift_id: '456' } } });
    expect(second?.pushId).toBe(first?.pushId);
  });

  it('answers 401 to a push signed with another secret, and the server gives it up', async () => {
    const got = collector();
    const sink = await startPushSink({ secret: 'whsec', onPush: got.onPush });
    opened.push(sink);
    const server = await serverFor(sink.url, 'not-the-same');
    await post(server, '/api/test/send_offer/123?shift_id=457');
    const [push] = await got.count(1);
    expect(push).toMatchObject({ signature: 'invalid: mismatch', answered: 401 });
    await withTimeout(
      (async () => {
        for (;;) {
          const journal = (await get(server, '/api/admin/journal?kind=push&shift_id=457')).body;
          const done = journal.find((e: { outcome: string }) => e.outcome === 'failed');
          if (done) return expect(done.detail).toMatchObject({ status: 401, attempt: 1 });
          await new Promise((r) => setTimeout(r, 10));
        }
      })(),
      DEFAULT_WAIT_MS,
      'the push given up',
    );
  });

  it('runs as a command: the URL on stderr, one JSON line per push on stdout, Ctrl-C ends it', async () => {
    const cli = new Cli(['push-sink', '--port', '0', '--secret', 'whsec', '--fail', '1', '--json']);
    const [, url] = await cli.errMatch(/receiving pushes at (http:\/\/\S+)/, 'the URL');
    expect(cli.stderr).toContain(`serve --push-webhook ${url}`);
    await serverFor(url as string, 'whsec');
    const server = opened.at(-1) as ShiftServer;
    await post(server, '/api/test/send_offer/123?shift_id=458');
    await cli.line((l) => l.includes('"answered":200'), 'the push answered 200');
    // Someone without the secret: refused, and said loudly.
    const body = JSON.stringify({ message: { token: 'x', notification: {}, data: {} } });
    const forged = await fetch(url as string, {
      method: 'POST',
      headers: signatureHeaders('guess', body, Date.now()),
      body,
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('E_SIGNATURE');
    await cli.errMatch(/INVALID SIGNATURE \(mismatch\)/, 'the loud warning');
    const exit = await cli.stop('SIGINT');
    expect(exit.code).toBe(0);
    const lines = exit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.attempt, l.signature, l.answered])).toEqual([
      [1, 'valid', 500],
      [2, 'valid', 200],
      [null, 'invalid: mismatch', 401],
    ]);
    expect(lines[1]).toMatchObject({
      push_id: expect.stringMatching(/^458-123-/),
      message: { token: TOKEN, data: { shift_id: '458', emp_id: '123' } },
    });
    // Diagnostics stay off stdout, and nothing is coloured in a pipe.
    expect(exit.stdout).not.toContain('receiving pushes');
    expect(exit.stderr).not.toContain('\u001b[');
  });

  it('takes serve --push-webhook and --push-after from the environment, end to end between the two binaries', async () => {
    const sink = new Cli(['push-sink', '--port', '0', '--json'], { SHIFTCTL_PUSH_SECRET: 'whsec' });
    const [, url] = await sink.errMatch(/receiving pushes at (http:\/\/\S+)/, 'the URL');
    const { cli, url: base } = await serveJsonWith(
      { SHIFTCTL_PUSH_WEBHOOK: url, SHIFTCTL_PUSH_AFTER: '50ms', SHIFTCTL_PUSH_SECRET: 'whsec' },
      '--db',
      ':memory:',
      '--no-fixtures',
    );
    const listening = JSON.parse(cli.lines()[0] as string);
    expect(listening).toMatchObject({ push_webhook: url, push_after_ms: 50 });
    await post({ url: base }, '/api/devices/7', { token: TOKEN, platform: 'ios' });
    await post({ url: base }, '/api/test/send_offer/7?shift_id=77');
    const line = JSON.parse(await sink.line((l) => l.includes('"answered"'), 'the push'));
    expect(line).toMatchObject({
      signature: 'valid',
      answered: 200,
      message: { token: TOKEN, data: { shift_id: '77', emp_id: '7' }, apns: expect.any(Object) },
    });
    await cli.line((l) => l.includes('"event":"push_notification"'), 'the push logged');
    expect((await cli.stop()).code).toBe(0);
    expect((await sink.stop('SIGINT')).code).toBe(0);
  });

  it('refuses a bad --push-webhook or --push-after as a usage error', async () => {
    const scheme = await inProcess('serve', '--db', ':memory:', '--push-webhook', 'ftp://x/');
    expect([scheme.code, scheme.stderr]).toEqual([
      2,
      'shiftctl: --push-webhook must be an http:// or https:// URL, not ftp:.\n',
    ]);
    const after = await inProcess('serve', '--db', ':memory:', '--push-after', '2h');
    expect(after.code).toBe(2);
    expect(after.stderr).toContain('Expected a duration of at most 1h');
  });
});
