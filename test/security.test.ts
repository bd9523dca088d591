/** Authentication, permissions, TLS and limits, through a real server and real clients. */
import { once } from 'node:events';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { signToken } from '../src/auth/token.js';
import { checkedTls } from '../src/cli/serve.js';
import type { ShiftctlError } from '../src/errors.js';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { createLogger } from '../src/server/log.js';
import { selfSignedCertificate } from '../src/server/self-signed.js';
import { run, serveJson } from './cli-harness.js';
import { http, manualClock, startServer, TestClient, upgrade, withTimeout } from './helpers.js';
import { inProcess } from './in-process.js';

const SECRET = 'test-secret-please-change';
let servers: ShiftServer[] = [];
let sockets: TestClient[] = [];
afterEach(async () => {
  for (const s of sockets) s.close();
  sockets = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function secured(options: ServerOptions = {}): Promise<ShiftServer> {
  const s = await startServer({ secret: SECRET, ...options });
  servers.push(s);
  return s;
}

const employee = (id: number, ttl = 3600, secret = SECRET) =>
  signToken({ emp_id: id, role: 'employee' }, secret, ttl);
const admin = () => signToken({ role: 'admin' }, SECRET, 3600);
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function call(
  s: ShiftServer,
  method: string,
  path: string,
  token?: string | Promise<string>,
  body?: unknown,
) {
  const t = await token;
  return http(s, method, path, body, t ? bearer(t) : {});
}

const ALG_NONE = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
  '{"role":"admin","iat":1,"exp":99999999999}',
).toString('base64url')}.`;

describe('tokens on HTTP', () => {
  it.each([
    ['no token', undefined, 'E_AUTH_REQUIRED'],
    ['a malformed token', 'not-a-token', 'E_TOKEN_MALFORMED'],
    ['an unsigned (alg none) token', ALG_NONE, 'E_TOKEN_MALFORMED'],
    ['an expired token', 'expired', 'E_TOKEN_EXPIRED'],
    ['a token signed with another secret', 'wrong', 'E_TOKEN_SIGNATURE'],
  ])('answers %s with 401 %s and a challenge', async (_what, kind, code) => {
    const s = await secured();
    const token =
      kind === 'expired'
        ? await signToken({ emp_id: 5, role: 'employee' }, SECRET, 60, Date.now() - 3_600_000)
        : kind === 'wrong'
          ? await employee(5, 3600, 'another-secret')
          : kind;
    const res = await call(s, 'GET', '/api/shift_offers/pending/5', token);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ success: false, code });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="shiftctl"/);
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
  });

  it('lets an employee read and answer only their own offers', async () => {
    const s = await secured();
    await call(s, 'POST', '/api/test/send_offer/5?shift_id=1', admin());
    await call(s, 'POST', '/api/test/send_offer/6?shift_id=2', admin());
    const own = await call(s, 'GET', '/api/shift_offers/pending/5', employee(5));
    expect(own.status).toBe(200);
    expect(own.body).toHaveLength(1);
    for (const path of ['/api/shift_offers/pending/6', '/api/shift_offers/history/6']) {
      const other = await call(s, 'GET', path, employee(5));
      expect(other.status).toBe(403);
      expect(other.body.code).toBe('E_FORBIDDEN');
    }
    const forOther = await call(s, 'POST', '/api/shift_offer/respond', employee(5), {
      emp_id: 6,
      shift_id: 2,
      response: 'accepted',
    });
    expect(forOther.status).toBe(403);
    const answered = await call(s, 'POST', '/api/shift_offer/respond', employee(5), {
      emp_id: 5,
      shift_id: 1,
      response: 'accepted',
    });
    expect(answered.body).toMatchObject({ assigned: true });
    const available = await call(s, 'GET', '/api/shift_offer/2/available', employee(5));
    expect(available.status).toBe(200);
  });

  it.each([
    ['POST', '/api/test/send_offer/5?shift_id=1'],
    ['GET', '/api/connections'],
    ['GET', '/api/admin/shifts'],
    ['POST', '/api/admin/reset'],
    ['GET', '/api/admin/journal'],
    ['POST', '/api/admin/faults'],
  ])('keeps %s %s for admins', async (method, path) => {
    const s = await secured();
    const asEmployee = await call(s, method, path, employee(5), method === 'POST' ? {} : undefined);
    expect(asEmployee.status).toBe(403);
    expect(asEmployee.body.code).toBe('E_FORBIDDEN');
    const asAdmin = await call(s, method, path, admin(), method === 'POST' ? {} : undefined);
    expect(asAdmin.status).toBeLessThan(300);
  });

  it('leaves the service description, docs and health check public', async () => {
    const s = await secured();
    for (const path of ['/', '/healthz', '/openapi.json', '/docs']) {
      expect((await call(s, 'GET', path)).status).toBe(200);
    }
  });
});

describe('tokens on the WebSocket', () => {
  it.each([
    ['/ws/5', 401, 'E_AUTH_REQUIRED'],
    ['/ws/5?token=garbage', 401, 'E_TOKEN_MALFORMED'],
    [`/ws/5?token=${ALG_NONE}`, 401, 'E_TOKEN_MALFORMED'],
    ['/ws/5?token=EXPIRED', 401, 'E_TOKEN_EXPIRED'],
    ['/ws/5?token=WRONG', 401, 'E_TOKEN_SIGNATURE'],
    ['/ws/6?token=EMP5', 403, 'E_FORBIDDEN'],
  ])('refuses %s with HTTP %i before the socket opens', async (path, status, code) => {
    const s = await secured();
    const resolved = path
      .replace(
        'EXPIRED',
        await signToken({ emp_id: 5, role: 'employee' }, SECRET, 1, Date.now() - 10_000),
      )
      .replace('WRONG', await employee(5, 3600, 'nope'))
      .replace('EMP5', await employee(5));
    const res = await upgrade(s, resolved);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ success: false, code });
  });

  it("accepts the app's ?token= and an admin token for any employee", async () => {
    const s = await secured();
    expect((await upgrade(s, `/ws/5?token=${await employee(5)}`)).status).toBe(101);
    expect((await upgrade(s, `/ws/9?token=${await admin()}`)).status).toBe(101);
  });

  it('closes a socket with 1008 once its token expires', async () => {
    const clock = manualClock(Date.now());
    const s = await secured({ clock, heartbeatSeconds: 0.05 });
    const token = await signToken({ emp_id: 5, role: 'employee' }, SECRET, 60, clock.now());
    const c = new TestClient(`${s.wsUrl}/5?token=${token}`);
    sockets.push(c);
    await c.opened();
    c.ws.on('message', (d) => {
      if (JSON.parse(d.toString()).type === 'ping') c.send({ type: 'pong' });
    });
    clock.jump(61_000);
    expect(await c.waitClose()).toEqual({ code: 1008, reason: 'token expired' });
  });
});

describe('the CLI with tokens', () => {
  it('mints tokens the server accepts, and listen reports a refused token', async () => {
    const s = await secured();
    const minted = await run('token', '5', '--secret', SECRET, '--ttl', '1h');
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    expect((await call(s, 'GET', '/api/shift_offers/pending/5', token)).status).toBe(200);
    const adminToken = (await inProcess('token', '--admin', '--secret', SECRET, '--json')).stdout;
    expect(JSON.parse(adminToken)).toMatchObject({ role: 'admin', emp_id: null });
    const noSecret = await inProcess('token', '5');
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('--secret');
    // An admin token acts for everyone: an employee id beside --admin is a mistake, not minted.
    const both = await inProcess('token', '5', '--admin', '--secret', SECRET);
    expect(both).toMatchObject({ code: 2, stdout: '' });
    expect(both.stderr).toContain('not both');

    const sent = await inProcess(
      'send-offer',
      '5',
      '--shift',
      '3',
      '--url',
      s.url,
      '--token',
      JSON.parse(adminToken).token,
    );
    expect(sent.code).toBe(0);
    const refused = await inProcess('listen', '6', '--url', s.url, '--token', token, '--once');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('HTTP 403');
    const ok = await inProcess('listen', '5', '--url', s.url, '--token', token, '--once');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Shift 3');
  });

  it('refuses to listen beyond loopback without a secret unless --insecure', async () => {
    const exit = await run('serve', '--host', '0.0.0.0', '--db', ':memory:', '--port', '0');
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('without authentication');
  });

  it('says loudly at start-up when authentication is off, and not when it is on', async () => {
    const open = await serveJson('--db', ':memory:', '--no-fixtures');
    expect((await open.cli.stop()).stderr).toContain('AUTHENTICATION IS OFF');
    const closed = await serveJson('--db', ':memory:', '--no-fixtures', '--secret', SECRET);
    expect((await closed.cli.stop()).stderr).not.toContain('AUTHENTICATION IS OFF');
  });
});

describe('TLS', () => {
  it('shuts down at once after a client refused its certificate mid-handshake', async () => {
    const cert = await selfSignedCertificate('127.0.0.1');
    try {
      const server = await startServer({ tls: { cert: cert.cert, key: cert.key } });
      // A client that does not trust the certificate gives up in the handshake and leaves.
      const refused = connectTls({ host: '127.0.0.1', port: server.port });
      const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
      expect(err.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      // The server's side went with it: nothing holds the close for its grace period (5 s),
      // as a half-open socket left behind did.
      await withTimeout(server.close(), 2000, 'the server to close');
    } finally {
      rmSync(dirname(cert.caFile), { recursive: true, force: true });
    }
  });

  it('refuses a --tls-cert or --tls-key that is not PEM with exit 2, naming the option and file', async () => {
    const cert = await selfSignedCertificate('127.0.0.1');
    const dir = dirname(cert.caFile);
    try {
      const notPem = join(dir, 'hostname');
      writeFileSync(notPem, 'box\n');
      const exit = await run(
        'serve',
        '--db',
        ':memory:',
        '--port',
        '0',
        '--tls-cert',
        notPem,
        '--tls-key',
        notPem,
      );
      expect(exit.code).toBe(2);
      expect(exit.stderr).toBe(
        `shiftctl: --tls-cert ${notPem} is not a PEM certificate (no start line)\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the file of a key that is not PEM, or not the certificate's", async () => {
    const [one, two] = await Promise.all([
      selfSignedCertificate('127.0.0.1'),
      selfSignedCertificate('127.0.0.1'),
    ]);
    try {
      const certFile = { file: 'cert.pem', pem: one.cert };
      const refusal = (key: { file: string; pem: string }) => {
        try {
          checkedTls(certFile, key);
        } catch (err) {
          return { code: (err as ShiftctlError).code, message: (err as Error).message };
        }
        return undefined;
      };
      expect(refusal({ file: 'cert.pem', pem: one.cert })).toEqual({
        code: 'E_USAGE',
        message: '--tls-key cert.pem is not a PEM private key (unsupported)',
      });
      expect(refusal({ file: 'empty.pem', pem: '' })).toEqual({
        code: 'E_USAGE',
        message: '--tls-key empty.pem is not a PEM private key (the file is empty)',
      });
      expect(refusal({ file: 'other.pem', pem: two.key })).toEqual({
        code: 'E_USAGE',
        message: '--tls-key other.pem is not the key of --tls-cert cert.pem (key values mismatch)',
      });
      expect(checkedTls(certFile, { file: 'key.pem', pem: one.key })).toEqual({
        cert: one.cert,
        key: one.key,
      });
    } finally {
      for (const made of [one, two]) {
        rmSync(dirname(made.caFile), { recursive: true, force: true });
      }
    }
  });

  it('serves https and wss with a self-signed certificate that listen --ca trusts', async () => {
    const served = await serveJson('--tls-self-signed', '--no-fixtures');
    const listening = JSON.parse(
      await served.cli.line((l) => l.includes('"event":"listening"'), 'listening'),
    ) as { url: string; ws_url: string; ca_file: string };
    expect(listening.url).toMatch(/^https:\/\//);
    expect(listening.ws_url).toMatch(/^wss:\/\//);
    const ca = listening.ca_file;
    expect(existsSync(ca)).toBe(true);
    const offered = await inProcess(
      'send-offer',
      '7',
      '--shift',
      '8',
      '--url',
      served.url,
      '--ca',
      ca,
    );
    expect(offered.code).toBe(0);
    const exit = await inProcess('listen', '7', '--url', served.url, '--ca', ca, '--once');
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('Shift 8');
    const untrusted = await inProcess('pending', '7', '--url', served.url);
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/self-signed certificate\): its certificate is not trusted/);
    expect(untrusted.stderr).toContain('Pass --ca with the certificate file');
    const res = await fetch(`${served.url}/healthz`).catch((e: Error) => e);
    expect(res).toBeInstanceOf(Error); // Node's fetch does not trust it either
    expect((await served.cli.stop()).code).toBe(0);
    expect(existsSync(ca)).toBe(false); // the certificate was for this run only
  });
});

describe('limits', () => {
  it('rate-limits answers per employee with 429 and Retry-After', async () => {
    const s = await startServer({
      answerRateLimits: {
        employee: { perSecond: 1, burst: 2 },
        address: { perSecond: 100, burst: 100 },
      },
    });
    servers.push(s);
    const answer = { emp_id: 5, shift_id: 1, response: 'accepted' };
    const codes = [];
    for (let i = 0; i < 3; i++)
      codes.push((await call(s, 'POST', '/api/shift_offer/respond', undefined, answer)).status);
    expect(codes).toEqual([404, 404, 429]);
    const limited = await call(s, 'POST', '/api/shift_offer/respond', undefined, answer);
    expect(limited.body.code).toBe('E_RATE_LIMITED');
    expect(limited.headers.get('retry-after')).toBe('1');
    const otherEmployee = await call(s, 'POST', '/api/shift_offer/respond', undefined, {
      ...answer,
      emp_id: 6,
    });
    expect(otherEmployee.status).toBe(404);
  });

  it('rate-limits answers per address', async () => {
    const s = await startServer({
      answerRateLimits: {
        employee: { perSecond: 100, burst: 100 },
        address: { perSecond: 1, burst: 3 },
      },
    });
    servers.push(s);
    const statuses = [];
    for (let emp = 1; emp <= 4; emp++) {
      statuses.push(
        (
          await call(s, 'POST', '/api/shift_offer/respond', undefined, {
            emp_id: emp,
            shift_id: 1,
            response: 'rejected',
          })
        ).status,
      );
    }
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  it('caps connections per employee (429) and in total (503)', async () => {
    const s = await startServer({ maxConnectionsPerEmployee: 2, maxConnections: 3 });
    servers.push(s);
    for (let i = 0; i < 2; i++) {
      const c = new TestClient(`${s.wsUrl}/5`);
      sockets.push(c);
      await c.opened();
    }
    const third = await upgrade(s, '/ws/5');
    expect(third).toMatchObject({ status: 429, body: { code: 'E_TOO_MANY_CONNECTIONS' } });
    const other = new TestClient(`${s.wsUrl}/6`);
    sockets.push(other);
    await other.opened();
    const full = await upgrade(s, '/ws/7');
    expect(full).toMatchObject({ status: 503, body: { code: 'E_SERVER_FULL' } });
  });

  it('keeps serving others through a flood of bad frames and oversized bodies', async () => {
    const s = await startServer({ maxFrameBytes: 1024 });
    servers.push(s);
    const good = new TestClient(`${s.wsUrl}/1`);
    sockets.push(good);
    await good.opened();
    const flooders = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const c = new TestClient(`${s.wsUrl}/${100 + i}`);
        sockets.push(c);
        return c.opened();
      }),
    );
    for (const f of flooders) {
      for (let i = 0; i < 200; i++) f.ws.send(i % 2 ? '{"type":' : Buffer.from([0xff, 0x00]));
      f.ws.send('x'.repeat(4096));
    }
    const bodies = Array.from({ length: 50 }, () =>
      call(s, 'POST', '/api/shift_offer/respond', undefined, 'x'.repeat(64 * 1024)),
    );
    for (const res of await Promise.all(bodies)) expect(res.status).toBe(413);
    await Promise.all(flooders.map((f) => f.waitClose()));
    await call(s, 'POST', '/api/test/send_offer/1?shift_id=9');
    await good.offer(9);
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('hygiene', () => {
  it('sends security headers, and no CORS headers when a secret is set without origins', async () => {
    const s = await secured();
    const res = await call(s, 'GET', '/healthz');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const withOrigin = await secured({ corsOrigin: 'https://app.example.com' });
    const cors = await call(withOrigin, 'GET', '/healthz');
    expect(cors.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });
});

/** Writes `text` to a new connection and returns everything read until the server closes it. */
async function rawExchange(s: ShiftServer, text: string): Promise<string> {
  const socket = connect(Number(new URL(s.url).port), '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => {
    answer += d;
  });
  // A reset after the answer is still the end of the exchange ('close' follows).
  socket.on('error', () => {});
  socket.write(text);
  await once(socket, 'close');
  return answer;
}

describe('HTTP edges', () => {
  it('answers a request asking for h2c pipelined behind another, in order', async () => {
    const s = await startServer();
    servers.push(s);
    const answer = await rawExchange(
      s,
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /api/shift_offers/pending/1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\nUpgrade: h2c\r\n\r\n',
    );
    const statuses = answer.match(/HTTP\/1\.1 \d{3}/g);
    expect(statuses).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(answer).toContain('"status":"ok"');
    expect(answer.trimEnd().endsWith('[]')).toBe(true);
  });

  it('answers OPTIONS with what the path allows when CORS is off, as its 405s promise', async () => {
    const s = await secured();
    const options = await call(s, 'OPTIONS', '/api/shift_offer/respond');
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
    expect(options.headers.get('access-control-allow-origin')).toBeNull();
    const put = await call(s, 'PUT', '/api/shift_offer/respond');
    expect(put.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('serves a request in absolute form (GET http://host/path), as proxies send it', async () => {
    const s = await startServer();
    servers.push(s);
    const answer = await rawExchange(
      s,
      'GET http://shifts.example/healthz?x=1 HTTP/1.1\r\nHost: shifts.example\r\nConnection: close\r\n\r\n',
    );
    expect(answer.split('\r\n', 1)[0]).toBe('HTTP/1.1 200 OK');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 'ok',
    });
  });
});

describe('timeouts', () => {
  it('cuts off a client that never finishes its request headers (a slow-loris handshake)', async () => {
    const s = await startServer({ headersTimeoutMs: 300 });
    servers.push(s);
    const { port } = new URL(s.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /ws/5 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n');
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    const started = Date.now();
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      success: false,
      code: 'E_REQUEST_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await call(s, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers 408 to a request whose body stalls, and closes the connection', async () => {
    const s = await startServer({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    servers.push(s);
    const { port } = new URL(s.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    // Headers in time, then 5 bytes of the 100 promised, and nothing more.
    socket.write(
      'POST /api/shift_offer/respond HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"emp',
    );
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      success: false,
      code: 'E_REQUEST_TIMEOUT',
    });
    expect((await call(s, 'GET', '/healthz')).status).toBe(200);
  });

  it.each([
    ['a method HTTP does not have', 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'E_BAD_REQUEST'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost x\r\n\r\n', 400, 'E_BAD_REQUEST'],
    [
      'headers over 16 KiB',
      `GET /healthz?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      431,
      'E_HEADERS_TOO_LARGE',
    ],
  ])(
    'answers a request with %s in JSON with a code, then closes',
    async (_, text, status, code) => {
      const s = await startServer();
      servers.push(s);
      const answer = await rawExchange(s, text);
      expect(answer.split('\r\n', 1)[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(answer).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(body).toMatchObject({ success: false, code });
    },
  );

  it('journals a request whose client left mid-body as aborted, not as a server error', async () => {
    const logged: string[] = [];
    const sink = { write: (chunk: string) => logged.push(chunk) };
    const s = await startServer({ log: createLogger({ out: sink, err: sink }) });
    servers.push(s);
    const { port } = new URL(s.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    // Part of the body, then the client is gone.
    socket.write(
      'POST /api/shift_offer/respond HTTP/1.1\r\nHost: localhost\r\n' +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"emp_id":1',
      () => socket.destroy(),
    );
    await once(socket, 'close');
    const deadline = Date.now() + 5000;
    let lines: Array<{ name: string; outcome: string; detail: unknown }> = [];
    while (!lines.some((l) => l.outcome === 'aborted') && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
      lines = (await call(s, 'GET', '/api/admin/journal?kind=request')).body as typeof lines;
    }
    expect(lines.find((l) => l.name === 'POST /api/shift_offer/respond')).toMatchObject({
      outcome: 'aborted',
      detail: null,
    });
    expect(logged.join('')).not.toMatch(/unexpected error|aborted|\n\s+at /);
    expect((await call(s, 'GET', '/healthz')).status).toBe(200);
  });
});
