/**
 * The operator commands against a real server: in-process (in-process.ts), and each command
 * once through the real binary (`run`, `Cli`).
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShiftServer } from '../src/server/create-server.js';
import { Cli, PtyCli, ROOT, run, serveJson, serveJsonWith, within } from './cli-harness.js';
import {
  connect,
  get,
  manualClock,
  post,
  respond,
  startServer,
  type TestClient,
} from './helpers.js';
import { inProcess } from './in-process.js';

let server: ShiftServer | undefined;
let journal: Server | undefined;
let phones: TestClient[] = [];
afterEach(async () => {
  for (const p of phones) p.close();
  phones = [];
  await server?.close();
  server = undefined;
  journal?.closeAllConnections();
  journal?.close();
  journal = undefined;
});

const JSON_TYPE = { 'content-type': 'application/json' };

async function start(options = {}) {
  server = await startServer(options);
  return server;
}
const SHIFT = { date: '2026-03-01', start_time: '08:00', end_time: '16:00' };

describe('operator commands', () => {
  it('withdraw closes a shift and its holders hear about it', async () => {
    const s = await start();
    const phone = await connect(s, 1);
    phones.push(phone);
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 10, offer_to: [1, 2] });
    const exit = await run('withdraw', '10', '--url', s.url);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe('Withdrew shift 10. Holders: 1:withdrawn 2:withdrawn\n');
    expect(await phone.result(10)).toMatchObject({ status: 'withdrawn' });
    const again = await inProcess('withdraw', '10', '--url', s.url);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('E_SHIFT_CLOSED');
  });

  it('approve gives a requested shift to one employee', async () => {
    const s = await start();
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 11, approval: true, offer_to: [1, 2] });
    await respond(s, 2, 11, 'accepted');
    const refused = await inProcess('approve', '11', '1', '--url', s.url);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('has not asked for shift 11');
    const exit = await run('approve', '11', '2', '--url', s.url, '--json');
    expect(exit.code).toBe(0);
    const shift = JSON.parse(exit.stdout);
    expect(shift).toMatchObject({ shift_id: 11, status: 'assigned', assigned_to: [2] });
    expect(shift).not.toHaveProperty('id');
  });

  it('withdraw --json names the shift shift_id, as status --json does', async () => {
    const s = await start();
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 12, offer_to: [1] });
    const status = await inProcess('status', '--url', s.url, '--json');
    const line = status.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.type === 'shift');
    expect(line).toMatchObject({ shift_id: 12 });
    const exit = await inProcess('withdraw', '12', '--url', s.url, '--json');
    expect(exit.code).toBe(0);
    const shift = JSON.parse(exit.stdout);
    expect(Object.keys(shift)[0]).toBe('shift_id');
    expect(shift).toMatchObject({
      shift_id: 12,
      status: 'withdrawn',
      holders: [{ emp_id: 1, outcome: 'withdrawn' }],
    });
    expect(shift).not.toHaveProperty('id');
  });

  it('kick cuts the connections of an employee', async () => {
    const s = await start();
    const phone = await connect(s, 3);
    const exit = await run('kick', '3', '--url', s.url);
    expect(exit.stdout).toBe('Cut 1 connection(s) of employee 3.\n');
    expect((await phone.waitClose()).code).toBe(1006);
  });

  it('fault sets, shows and clears faults', async () => {
    const s = await start();
    const set = await run('fault', '--latency', '200ms', '--drop-rate', '0.25', '--url', s.url);
    expect(set.stdout).toMatch(/push latency 200 ms, HTTP latency 0 ms, drop rate 0.25/);
    const off = await inProcess('fault', '--off', '--url', s.url, '--json');
    expect(JSON.parse(off.stdout)).toEqual({
      push_latency_ms: 0,
      http_latency_ms: 0,
      drop_rate: 0,
      refusing_connections_until: null,
    });
    const bad = await inProcess('fault', '--drop-rate', '2', '--url', s.url);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected a number from 0 to 1');
  });

  it('log prints the journal, and follows it', async () => {
    const s = await start();
    await post(s, '/api/test/send_offer/5?shift_id=20');
    const exit = await inProcess('log', '--emp', '5', '--url', s.url, '--json');
    const entries = exit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => `${e.kind} ${e.name} ${e.outcome}`)).toEqual([
      'push shift_offer no_device',
      'request POST /api/test/send_offer/{emp_id} 200',
    ]);
    const follow = new Cli(['log', '--follow', '--interval', '50', '--url', s.url]);
    await follow.line((l) => l.includes('/api/test/send_offer'), 'the first request');
    await respond(s, 5, 20, 'rejected');
    await follow.line((l) => l.includes('POST /api/shift_offer/respond'), 'the answer');
    expect((await follow.stop('SIGINT')).code).toBe(0);
  });

  it('log --follow leaves out GET requests, its own polling first, and no line ends in blanks', async () => {
    const s = await start();
    const follow = new Cli(['log', '--follow', '--interval', '50', '--url', s.url]);
    await post(s, '/api/test/send_offer/5?shift_id=20');
    await follow.line((l) => l.includes('POST /api/test/send_offer'), 'the offer');
    // Polls go on between the two requests; a GET of the test's own is left out too.
    await get(s, '/api/shift_offers/pending/5');
    await post(s, '/api/admin/faults', { drop_rate: 0 });
    await follow.line((l) => l.includes('POST /api/admin/faults'), 'the faults request');
    const { stdout } = await follow.stop('SIGINT');
    const lines = stdout.trimEnd().split('\n');
    // Each line without its time, its columns one space apart.
    expect(lines.map((l) => l.split(/ +/).slice(1).join(' '))).toEqual([
      'push shift_offer no_device emp 5 shift 20',
      'request POST /api/test/send_offer/{emp_id} 200 emp 5 shift 20',
      'request POST /api/admin/faults 200',
    ]);
    expect(lines.filter((l) => l !== l.trimEnd())).toEqual([]);
  });

  it('log --follow --reads shows GET requests but for the polling of the journal', async () => {
    const s = await start();
    const follow = new Cli([
      'log',
      '--follow',
      '--reads',
      '--json',
      '--interval',
      '50',
      '--url',
      s.url,
    ]);
    await get(s, '/api/shift_offers/pending/5');
    await follow.line((l) => l.includes('GET /api/shift_offers/pending'), 'the read');
    await post(s, '/api/admin/faults', { drop_rate: 0 });
    await follow.line((l) => l.includes('POST /api/admin/faults'), 'the faults request');
    const { stdout } = await follow.stop('SIGINT');
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).name),
    ).toEqual(['GET /api/shift_offers/pending/{emp_id}', 'POST /api/admin/faults']);
  });

  it('log --follow stops cleanly on Ctrl-C while its first page is on the way', async () => {
    // A journal that holds the first request until the Ctrl-C has been sent.
    let first: ((body: string) => void) | undefined;
    const asked = new Promise<void>((resolve) => {
      journal = createHttpServer((req, res) => {
        const answer = (body: string) => res.writeHead(200, JSON_TYPE).end(body);
        if (!req.url?.startsWith('/api/admin/journal')) {
          res.writeHead(404, JSON_TYPE).end('{}');
        } else if (first === undefined) {
          first = answer;
          resolve();
        } else {
          answer('[]');
        }
      });
    });
    const server = journal;
    if (!server) throw new Error('the journal server was not made');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const follow = new Cli([
      'log',
      '--follow',
      '--interval',
      '50',
      '--url',
      `http://127.0.0.1:${port}`,
    ]);
    await within(asked, 'the first journal request');
    follow.child.kill('SIGINT');
    first?.('[]');
    expect(await within(follow.done, 'log --follow to exit')).toMatchObject({
      code: 0,
      signal: null,
    });
  });

  it('reset empties the server', async () => {
    const s = await start();
    await post(s, '/api/test/send_offer/5?shift_id=21');
    expect((await run('reset', '--url', s.url)).code).toBe(0);
    expect((await get(s, '/api/admin/shifts')).body).toEqual([]);
  });
});

describe('serve with lifecycle flags', () => {
  it('gives offers the --offer-ttl deadline and warns that faults are on', async () => {
    const { cli, url } = await serveJson(
      '--db',
      ':memory:',
      '--no-fixtures',
      '--offer-ttl',
      '15m',
      '--drop-rate',
      '0.5',
    );
    await fetch(`${url}/api/test/send_offer/5?shift_id=9`, { method: 'POST' });
    const pending = (await (await fetch(`${url}/api/shift_offers/pending/5`)).json()) as Array<{
      expires_at: string;
    }>;
    const left = Date.parse(pending[0]?.expires_at ?? '') - Date.now();
    expect(left).toBeGreaterThan(14 * 60_000);
    expect(left).toBeLessThanOrEqual(15 * 60_000);
    const exit = await cli.stop();
    expect(exit.stderr).toContain('faults are on');
  });

  it('gives urgent offers the --urgent-ttl deadline, from SHIFTCTL_URGENT_TTL too', async () => {
    for (const [env, flags] of [
      [{}, ['--urgent-ttl', '5m']],
      [{ SHIFTCTL_URGENT_TTL: '300' }, []],
    ] as const) {
      const { cli, url } = await serveJsonWith(env, '--db', ':memory:', '--no-fixtures', ...flags);
      const send = (shiftId: number, body: object) =>
        fetch(`${url}/api/test/send_offer/5?shift_id=${shiftId}`, {
          method: 'POST',
          body: JSON.stringify(body),
        });
      await send(9, { priority: 'urgent' });
      await send(10, {});
      const pending = (await (await fetch(`${url}/api/shift_offers/pending/5`)).json()) as Array<{
        shift_id: number;
        expires_at?: string;
      }>;
      expect(pending.map((o) => o.shift_id)).toEqual([9, 10]);
      const left = Date.parse(pending[0]?.expires_at ?? '') - Date.now();
      expect(left).toBeGreaterThan(4 * 60_000);
      expect(left).toBeLessThanOrEqual(5 * 60_000);
      expect(pending[1]?.expires_at).toBeUndefined();
      expect((await cli.stop()).code).toBe(0);
    }
    const bad = await run('serve', '--db', ':memory:', '--urgent-ttl', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected a duration such as 200ms, 30s, 15m or 2h');
  });

  it('refuses a bad scenario file with exit 2', async () => {
    const file = join(ROOT, 'package.json');
    const exit = await run('serve', '--db', ':memory:', '--scenario', file);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain(`Invalid scenario in ${file}`);
  });
});

describe('listen and deadlines', () => {
  it('counts down to the deadline and drops the offer when it expires', async () => {
    const clock = manualClock(Date.now());
    const s = await start({ clock });
    await post(s, '/api/test/send_offer/7?shift_id=30&ttl_seconds=600');
    const term = new PtyCli(['listen', '7', '--url', s.url]);
    // The card and the prompt count the same way.
    await term.waitFor(/Expires\s+in (10:00|9:5\d), at \d\d:\d\d:\d\d/);
    await term.waitFor(/expires in (10:00|9:5\d)/);
    await term.waitFor('● connected');
    clock.advance(600_000);
    await term.waitFor('✖ Shift 30 expired; dropped.');
  });

  it('drops a withdrawn offer at the prompt', async () => {
    const s = await start();
    await post(s, '/api/test/send_offer/8?shift_id=31');
    const term = new PtyCli(['listen', '8', '--url', s.url]);
    await term.waitFor(/Shift 31:\s+a accept/);
    await term.waitFor('● connected');
    await post(s, '/api/admin/shifts/31/withdraw');
    await term.waitFor('✖ Shift 31 was withdrawn; dropped.');
  });
});

describe('client commands and the lifecycle', () => {
  it('send-offer --ttl gives the offer a deadline', async () => {
    const s = await start();
    const exit = await inProcess(
      'send-offer',
      '5',
      '--shift',
      '40',
      '--ttl',
      '15m',
      '--url',
      s.url,
    );
    expect(exit.code).toBe(0);
    const [offer] = (await get(s, '/api/shift_offers/pending/5')).body;
    const left = Date.parse(offer.expires_at) - Date.now();
    expect(left).toBeGreaterThan(14 * 60_000);
    expect(left).toBeLessThanOrEqual(15 * 60_000);
  });

  it('respond says when an accept waits for approval', async () => {
    const s = await start();
    await post(s, '/api/admin/shifts', { ...SHIFT, id: 41, approval: true, offer_to: [5] });
    const exit = await inProcess('respond', '5', '--shift', '41', 'accept', '--url', s.url);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe(
      "Requested: shift 41 needs an operator's approval; you will be told.\n",
    );
  });
});
