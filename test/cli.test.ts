/**
 * The real `shiftctl` binary, run as a user runs it: exit codes, stdout, stderr and signals.
 * Usage errors that commander refuses before any command runs are checked in-process
 * (in-process.ts): the binary's own exit-code plumbing is checked by the others.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OUTCOMES } from '../src/protocol/schemas.js';
import { Cli, ESC, ROOT, run, STACK_FRAME, serveJson, VERSION } from './cli-harness.js';
import { inProcess, inProcessWithEnv } from './in-process.js';

/** Starts `serve`, waits for the whole pretty banner and reads the port from its wsUrl line. */
async function serve(...args: string[]): Promise<{ cli: Cli; port: number }> {
  const cli = new Cli(['serve', ...args]);
  await cli.line((l) => l.includes('Press Ctrl-C to stop.'), 'the banner');
  const port = /^\s*wsUrl\s+ws:\/\/127\.0\.0\.1:(\d+)\/ws$/m.exec(cli.stdout)?.[1];
  if (!port) throw new Error(`no wsUrl in the banner:\n${cli.stdout}`);
  return { cli, port: Number(port) };
}

/** A stdout line as JSON, or undefined when it is not JSON. */
function json(line: string): any {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('shiftctl serve', () => {
  it('with --secret, shows how to send the test offer with a token, and never the secret', async () => {
    const secret = 'banner-secret-for-a-test';
    const { cli, port } = await serve('--port', '0', '--db', ':memory:', '--secret', secret);
    expect(cli.stdout).not.toContain(secret);
    expect(cli.stdout).toContain(
      "TOKEN=$(SHIFTCTL_SECRET='your secret' npx shiftctl token --admin)",
    );
    const curl = /curl -X POST -H "Authorization: Bearer \$TOKEN" "([^"]+)"/.exec(cli.stdout)?.[1];
    expect(curl).toBe(`http://127.0.0.1:${port}/api/test/send_offer/123?shift_id=456`);
    // What the banner says to do works.
    const minted = await inProcessWithEnv({ SHIFTCTL_SECRET: secret }, 'token', '--admin');
    const token = minted.stdout.trim();
    const res = await fetch(curl as string, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    await cli.stop('SIGTERM');
  });

  it('prints the real URLs, serves the demo data, and exits 0 on SIGTERM', async () => {
    const { cli, port } = await serve('--port', '0', '--db', ':memory:');
    expect(port).toBeGreaterThan(0);
    const apiUrl = `http://127.0.0.1:${port}/api`;
    const words = cli.lines().map((l) => l.trim().split(/\s+/).join(' '));
    expect(words).toContain(`wsUrl ws://127.0.0.1:${port}/ws`);
    expect(words).toContain(`apiUrl ${apiUrl}`);
    expect(cli.stdout).toContain(`static const String wsUrl = 'ws://127.0.0.1:${port}/ws';`);
    expect(cli.stdout).toContain(`static const String apiUrl = '${apiUrl}';`);
    expect(cli.stdout).toMatch(/loaded \d+ employees and \d+ shifts from fixtures/);

    const pending = await getJson(`${apiUrl}/shift_offers/pending/123`);
    expect(pending.status).toBe(200);
    expect(Array.isArray(pending.body)).toBe(true);
    expect(pending.body.length).toBeGreaterThan(0);
    for (const offer of pending.body) {
      expect(offer).toMatchObject({
        type: 'shift_offer',
        shift_id: expect.any(Number),
        date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        start_time: expect.stringMatching(/^\d{2}:\d{2}$/),
        end_time: expect.stringMatching(/^\d{2}:\d{2}$/),
      });
    }

    const exit = await cli.stop('SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    // Without --secret it says, on stderr and only there, that anyone can act as anyone.
    expect(exit.stderr.trim().split('\n')).toEqual([
      expect.stringContaining('AUTHENTICATION IS OFF'),
    ]);
    expect(exit.stdout).not.toContain(ESC);
  });

  it('logs one JSON object per line with --log-format json', async () => {
    const cli = new Cli(['serve', '--port', '0', '--db', ':memory:', '--log-format', 'json']);
    const first = json(await cli.line(() => true, 'the first log line'));
    expect(first).toMatchObject({
      event: 'listening',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    expect(first.ws_url).toBe(`${first.url.replace(/^http/, 'ws')}/ws`);
    expect(first.api_url).toBe(`${first.url}/api`);

    const sent = await fetch(`${first.api_url}/test/send_offer/5?shift_id=9`, { method: 'POST' });
    expect(sent.status).toBe(200);
    const offer = json(await cli.line((l) => json(l)?.event === 'offer', 'the offer event'));
    expect(offer).toMatchObject({ event: 'offer', shift_id: 9, emp_id: 5, status: 'pending' });

    const exit = await cli.stop('SIGTERM');
    expect(exit.code).toBe(0);
    for (const line of exit.stdout.trimEnd().split('\n')) {
      expect(json(line), line).toMatchObject({
        time: expect.any(String),
        event: expect.any(String),
      });
    }
  });

  it('takes its port and database from SHIFTCTL_PORT and SHIFTCTL_DB, and refuses a bad port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-env-'));
    try {
      const db = join(dir, 'from-env.db');
      const cli = new Cli(['serve', '--no-fixtures'], { SHIFTCTL_PORT: '0', SHIFTCTL_DB: db });
      await cli.line((l) => l.includes('Press Ctrl-C to stop.'), 'the banner');
      expect(cli.stdout).toContain(`db      ${db} (empty database`);
      expect(cli.stdout).not.toContain(':8000');
      expect((await cli.stop()).code).toBe(0);
      const bad = await inProcessWithEnv({ SHIFTCTL_PORT: 'eighty' }, 'serve');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("from env 'SHIFTCTL_PORT' is invalid");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('goes on serving when the reader of its stdout goes away (serve | head -1)', async () => {
    const { cli, url } = await serveJson('--db', ':memory:');
    cli.child.stdout.destroy();
    const deadline = Date.now() + 5000;
    // Every request is logged: the next write to the closed pipe fails, and is let go.
    while (!cli.stderr.includes('stdout was closed') && Date.now() < deadline) {
      const sent = await fetch(`${url}/api/test/send_offer/5?shift_id=9`, { method: 'POST' });
      expect(sent.status).toBe(200);
      await sent.text();
    }
    expect(cli.stderr).toContain('stdout was closed; the server goes on without logging there.');
    expect((await getJson(`${url}/healthz`)).status).toBe(200);
    expect((await cli.stop()).code).toBe(0);
  });

  it('starts with an empty database with --no-fixtures', async () => {
    const { cli, port } = await serve('--port', '0', '--db', ':memory:', '--no-fixtures');
    expect(cli.stdout).toContain('empty database (--no-fixtures)');
    const pending = await getJson(`http://127.0.0.1:${port}/api/shift_offers/pending/123`);
    expect(pending).toEqual({ status: 200, body: [] });
    expect((await cli.stop()).code).toBe(0);
  });
});

describe('shiftctl serve --fixtures with a bad file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shiftctl-cli-'));
    writeFileSync(join(dir, 'broken.json'), 'employees:\n  - 101\n');
    writeFileSync(
      join(dir, 'late.json'),
      JSON.stringify({
        shifts: [{ id: 1, date: '2026-01-20', start_time: '25:00', end_time: '17:00' }],
      }),
    );
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs serve with the file and checks the shape every fixtures error must have. */
  async function refused(file: string): Promise<string> {
    const exit = await run('serve', '--port', '0', '--db', ':memory:', '--fixtures', file);
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(file);
    expect(exit.stderr).not.toContain(STACK_FRAME);
    expect(exit.stderr.trim()).not.toContain('\n\n');
    return exit.stderr;
  }

  it('names a missing file', async () => {
    const stderr = await refused(join(dir, 'missing.json'));
    expect(stderr).toMatch(/not found/i);
  });

  it('names a file that is not JSON', async () => {
    const stderr = await refused(join(dir, 'broken.json'));
    expect(stderr).toMatch(/not valid JSON/i);
    // One line, though JSON.parse quotes the file's text, newlines and all.
    expect(stderr.split('\n')[0]).toMatch(/broken\.json is not valid JSON: .*- 101/);
  });

  it('names the file and the field path of a schema error', async () => {
    const stderr = await refused(join(dir, 'late.json'));
    expect(stderr).toContain('shifts.0.start_time');
    expect(stderr).toMatch(/HH:MM/);
  });
});

describe('shiftctl usage', () => {
  it.each([['abc'], ['70000']])('refuses --port %s with exit 2', async (port) => {
    const exit = await inProcess('serve', '--port', port, '--db', ':memory:');
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain('--port');
    expect(exit.stderr).toContain(`'${port}'`);
    expect(exit.stderr).toMatch(/whole number from 0 to 65535/);
    expect(exit.stderr).not.toContain(STACK_FRAME);
  });

  it.each([
    [['listen', '1', '--auto', 'maybe'], /'maybe' is invalid\. Expected one of accept, reject/],
    [['verify', '--timeout', '0'], /'0' is invalid\. Expected a duration from 100ms to 2m\./],
    [['fault', '--off', '--latency', '200ms'], /--off turns every fault off; give it alone/],
    [
      ['pending', '1', '--ca', join(ROOT, 'package.json')],
      /package\.json is not a PEM certificate/,
    ],
    [['pending', '1', '-H', 'X-A: a\nb'], /-H X-A: a header value cannot hold control/],
  ])('refuses %j with one line and exit 2, before reaching any server', async (args, message) => {
    const exit = await inProcess(...args, '--url', 'http://127.0.0.1:1');
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toMatch(message);
    expect(exit.stderr).toMatch(/^shiftctl: /);
    expect(exit.stderr).not.toContain(STACK_FRAME);
  });

  it('stops quietly with exit 0 when its reader closes the pipe early (| head)', async () => {
    const cli = new Cli(['send-offer', '--help']);
    cli.child.stdout.destroy();
    const exit = await cli.done;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
  });

  it('refuses an unknown command with exit 2', async () => {
    const exit = await inProcess('frobnicate');
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('prints help on stdout with exit 0', async () => {
    const exit = await run('--help');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout).toContain('Usage: shiftctl');
    expect(exit.stdout).toMatch(/^\s+serve\b/m);
  });

  it('prints the serve options with serve --help', async () => {
    const exit = await inProcess('serve', '--help');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    for (const flag of ['--port', '--db', '--fixtures', '--no-fixtures', '--log-format']) {
      expect(exit.stdout).toContain(flag);
    }
  });

  it('lists in history --help, and in docs/clients.md, every outcome a history item can have', async () => {
    const exit = await inProcess('history', '--help');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    const help = exit.stdout.replace(/\s+/g, ' ');
    const docs = readFileSync(join(ROOT, 'docs', 'clients.md'), 'utf8');
    const section = docs.slice(
      docs.indexOf('`OUTCOME` is'),
      docs.indexOf('With `--json` each item'),
    );
    // A queued offer (a later cascade step) has not been sent: history lists sent offers only.
    for (const outcome of OUTCOMES.filter((o) => o !== 'queued')) {
      expect(help, outcome).toMatch(new RegExp(`OUTCOME is [^.]*\\b${outcome}\\b`));
      expect(section, outcome).toContain(`\`${outcome}\``);
    }
  });

  it('prints the version on stdout with exit 0', async () => {
    const exit = await inProcess('--version');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout.trim()).toBe(VERSION);
  });
});

describe('shiftctl serve when it cannot start', () => {
  let blocker: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    const server = blocker;
    blocker = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('exits 1 and says so when the port is in use', async () => {
    const server = createNetServer();
    blocker = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;

    dir = mkdtempSync(join(tmpdir(), 'shiftctl-cli-'));
    const db = join(dir, 'shifts.db');
    const exit = await run('serve', '--port', String(port), '--db', db);
    expect(exit.code).toBe(1);
    expect(exit.stdout).not.toContain('is serving');
    expect(exit.stderr).toContain(`Port ${port}`);
    expect(exit.stderr).toMatch(/already in use/);
    expect(exit.stderr).not.toContain(STACK_FRAME);
    // A failed start leaves no demo data behind: the next start still loads the fixtures.
    const next = await serveJson('--db', db);
    expect((await getJson(`${next.url}/api/admin/shifts`)).body.length).toBeGreaterThan(0);
  });

  it('prints the listening line even with --quiet', async () => {
    const { cli, url } = await serveJson('--db', ':memory:', '--quiet');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await fetch(`${url}/api/test/send_offer/5?shift_id=9`, { method: 'POST' });
    const exit = await cli.stop();
    expect(exit.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('says it cannot open a database in a directory that does not exist', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shiftctl-cli-'));
    const db = join(dir, 'no-such-dir', 'shifts.db');
    const exit = await run('serve', '--port', '0', '--db', db);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stderr).toContain('Cannot open the database');
    expect(exit.stderr).toContain(db);
    expect(exit.stderr).not.toContain(STACK_FRAME);
  });
});
