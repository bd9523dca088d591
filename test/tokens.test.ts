/** Tokens: one spelling each, the old format, several secrets for rotation, the CLI's secrets. */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth/token.js';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { STACK_FRAME, serveJsonWith } from './cli-harness.js';
import { http, manualClock, startServer, upgrade } from './helpers.js';
import { inProcess, inProcessWithEnv } from './in-process.js';

const NEW = 'the-new-secret-of-this-server';
const OLD = 'the-old-secret-being-rotated-out';

let servers: ShiftServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function secured(secret: ServerOptions['secret'], options: ServerOptions = {}) {
  const s = await startServer({ secret, ...options });
  servers.push(s);
  return s;
}

/** What employee 5 gets for its pending offers with this token. */
async function pendingWith(s: { url: string }, token: string) {
  const res = await http(s, 'GET', '/api/shift_offers/pending/5', undefined, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, code: (res.body as { code?: string }).code };
}

const employee5 = (secret: string, ttl = 3600, now = Date.now()) =>
  signToken({ emp_id: 5, role: 'employee' }, secret, ttl, now);

/** A token as the hand-written HS256 code before `jose` made them. */
function legacyToken(secret: string, claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The same signature spelled with its last character's unused bits set. */
function nonCanonical(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(token.at(-1) as string);
  return `${token.slice(0, -1)}${alphabet[last | 1]}`;
}

describe('one spelling per token', () => {
  it.each([
    ['== appended', (t: string) => `${t}==`],
    ['!! appended', (t: string) => `${t}!!`],
    ['= appended', (t: string) => `${t}=`],
    ['a space appended', (t: string) => `${t} x`.slice(0, -1)],
    ['a tab inside its signature', (t: string) => `${t.slice(0, -4)}\t${t.slice(-4)}`],
    ['a character appended', (t: string) => `${t}A`],
    ['non-zero unused bits in its last character', nonCanonical],
    ['a fourth part', (t: string) => `${t}.AAAA`],
  ])('refuses a valid token with %s', async (_what, spoil) => {
    const s = await secured(NEW);
    const token = await employee5(NEW);
    expect(await pendingWith(s, token)).toEqual({ status: 200, code: undefined });
    const spoiled = spoil(token);
    expect(spoiled).not.toBe(token);
    const ws = await upgrade(s, `/ws/5?token=${encodeURIComponent(spoiled)}`);
    expect(ws).toMatchObject({ status: 401, body: { code: 'E_TOKEN_MALFORMED' } });
    if (!/\s/.test(spoiled)) {
      expect(await pendingWith(s, spoiled)).toEqual({ status: 401, code: 'E_TOKEN_MALFORMED' });
    }
  });

  it('still accepts tokens minted by the hand-written code, byte for byte the same as new ones', async () => {
    const s = await secured(NEW);
    const iat = Math.floor(Date.now() / 1000);
    const legacy = legacyToken(NEW, { role: 'employee', iat, exp: iat + 600, emp_id: 5 });
    expect(await pendingWith(s, legacy)).toEqual({ status: 200, code: undefined });
    expect(await employee5(NEW, 600, iat * 1000)).toBe(legacy);
    const admin = legacyToken(NEW, { role: 'admin', iat, exp: iat + 600 });
    expect(await pendingWith(s, admin)).toEqual({ status: 200, code: undefined });
  });

  it('refuses other algorithms even when signed with the secret', async () => {
    const s = await secured(NEW);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const iat = Math.floor(Date.now() / 1000);
    const body = `${part({ alg: 'HS512', typ: 'JWT' })}.${part({ role: 'admin', iat, exp: iat + 60 })}`;
    const hs512 = `${body}.${createHmac('sha512', NEW).update(body).digest('base64url')}`;
    expect(await pendingWith(s, hs512)).toEqual({ status: 401, code: 'E_TOKEN_MALFORMED' });
  });
});

describe('secret rotation', () => {
  it('verifies tokens signed with any listed secret, and only those', async () => {
    const s = await secured([NEW, OLD]);
    expect(await pendingWith(s, await employee5(NEW))).toEqual({ status: 200, code: undefined });
    expect(await pendingWith(s, await employee5(OLD))).toEqual({ status: 200, code: undefined });
    expect((await upgrade(s, `/ws/5?token=${await employee5(OLD)}`)).status).toBe(101);
    expect(await pendingWith(s, await employee5('some-other-secret'))).toEqual({
      status: 401,
      code: 'E_TOKEN_SIGNATURE',
    });
    const expired = await employee5(OLD, 60, Date.now() - 3_600_000);
    expect(await pendingWith(s, expired)).toEqual({ status: 401, code: 'E_TOKEN_EXPIRED' });
  });

  it('refuses a token once it expires, even one it has seen before', async () => {
    const clock = manualClock(Date.now());
    const s = await secured([NEW, OLD], { clock });
    const token = await employee5(OLD, 60, clock.now());
    const answers = await Promise.all(Array.from({ length: 20 }, () => pendingWith(s, token)));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    clock.jump(61_000);
    expect(await pendingWith(s, token)).toEqual({ status: 401, code: 'E_TOKEN_EXPIRED' });
    expect((await upgrade(s, `/ws/5?token=${token}`)).status).toBe(401);
  });
});

describe('secrets on the command line', () => {
  /** Starts `serve` with these arguments and environment; resolves to its URL. */
  const serve = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    serveJsonWith(env, '--db', ':memory:', '--no-fixtures', ...args);

  it.each([
    ['--secret twice', ['--secret', NEW, '--secret', OLD], {}],
    ['a comma list in SHIFTCTL_SECRET', [], { SHIFTCTL_SECRET: `${NEW},${OLD}` }],
  ])('serve takes several secrets from %s', async (_how, args, env) => {
    const served = await serve(args, env);
    expect(await pendingWith(served, await employee5(NEW))).toMatchObject({ status: 200 });
    expect(await pendingWith(served, await employee5(OLD))).toMatchObject({ status: 200 });
    expect(await pendingWith(served, await employee5('another'))).toMatchObject({ status: 401 });
    expect((await served.cli.stop()).stderr).not.toContain('AUTHENTICATION IS OFF');
  });

  it('token signs with the first of several secrets', async () => {
    const onlyNew = await secured(NEW);
    for (const minted of [
      await inProcess('token', '5', '--secret', NEW, '--secret', OLD),
      await inProcessWithEnv({ SHIFTCTL_SECRET: `${NEW},${OLD}` }, 'token', '5'),
    ]) {
      expect(minted.code).toBe(0);
      expect(await pendingWith(onlyNew, minted.stdout.trim())).toMatchObject({ status: 200 });
    }
  });

  it.each([
    ['serve --secret NEW --secret ""', 'serve', ['--secret', NEW, '--secret', ''], {}],
    ['serve with SHIFTCTL_SECRET=NEW,,OLD', 'serve', [], { SHIFTCTL_SECRET: `${NEW},,${OLD}` }],
    ['serve with SHIFTCTL_SECRET=""', 'serve', [], { SHIFTCTL_SECRET: '' }],
    ['token 5 with SHIFTCTL_SECRET=,NEW', 'token', ['5'], { SHIFTCTL_SECRET: `,${NEW}` }],
  ])('%s: an empty secret is a usage error (exit 2)', async (_what, command, args, env) => {
    const extra = command === 'serve' ? ['--port', '0', '--db', ':memory:', '--no-fixtures'] : [];
    // The secrets are checked before serve starts anything: in-process is safe.
    const exit = await inProcessWithEnv(env, command, ...args, ...extra);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toMatch(/--secret must not be empty|SHIFTCTL_SECRET has an empty secret/);
    expect(exit.stderr).not.toContain(NEW);
    expect(exit.stderr).not.toContain(STACK_FRAME);
  });
});

describe('a client gone before its body is read', () => {
  // Injected latency holds the request the way verifying a new token does, but for long enough
  // to be sure the client is gone first.
  it('is journalled as aborted, not left waiting for a body that will never come', async () => {
    const s = await secured(NEW, { faults: { http_latency_ms: 100 } });
    const token = await employee5(NEW);
    const socket = connect(Number(new URL(s.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      `POST /api/shift_offer/respond HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"emp_id":5',
      () => socket.destroy(),
    );
    await once(socket, 'close');
    const admin = await signToken({ role: 'admin' }, NEW, 60);
    const journal = async () => {
      const res = await http(s, 'GET', '/api/admin/journal?kind=request', undefined, {
        headers: { authorization: `Bearer ${admin}` },
      });
      return res.body as Array<{ name: string; outcome: string }>;
    };
    const deadline = Date.now() + 5000;
    let lines = await journal();
    while (
      !lines.some((l) => l.name === 'POST /api/shift_offer/respond') &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setImmediate(resolve));
      lines = await journal();
    }
    expect(lines.find((l) => l.name === 'POST /api/shift_offer/respond')).toMatchObject({
      outcome: 'aborted',
    });
  });
});
