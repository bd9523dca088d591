/** Answer rate limits, per employee and per address, and client addresses behind a proxy. */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClientAddress } from '../src/server/client-address.js';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { createLogger } from '../src/server/log.js';
import { serveJsonWith } from './cli-harness.js';
import { http, manualClock, startServer, withTimeout } from './helpers.js';
import { inProcess } from './in-process.js';

let servers: ShiftServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A server whose buckets refill only when the test moves its clock. */
async function limited(
  employee: { perSecond: number; burst: number },
  address: { perSecond: number; burst: number },
  options: ServerOptions = {},
) {
  const clock = manualClock();
  const s = await startServer({ clock, answerRateLimits: { employee, address }, ...options });
  servers.push(s);
  return { s, clock };
}

const from = (address: string) => ({ 'x-forwarded-for': address });

/** The status of one answer (404: no such offer, but it got past the limits). */
async function answer(s: ShiftServer, empId: number, headers: Record<string, string> = {}) {
  const res = await http(
    s,
    'POST',
    '/api/shift_offer/respond',
    { emp_id: empId, shift_id: 1, response: 'rejected' },
    { headers: { 'content-type': 'application/json', ...headers } },
  );
  return res.status;
}

describe('answer rate limits', () => {
  it('does not let one employee flooding its own answers get another on the same address refused', async () => {
    const { s } = await limited({ perSecond: 1, burst: 2 }, { perSecond: 1, burst: 3 });
    const flood = [];
    for (let i = 0; i < 10; i++) flood.push(await answer(s, 5));
    expect(flood).toEqual([404, 404, ...Array(8).fill(429)]);
    expect(await answer(s, 6)).toBe(404);
  });

  it("gives the employee's token back when the address refuses the answer", async () => {
    const { s, clock } = await limited({ perSecond: 0.01, burst: 2 }, { perSecond: 1, burst: 1 });
    expect(await answer(s, 5)).toBe(404);
    // The address is spent: these are refused without costing employee 6 anything.
    expect([await answer(s, 6), await answer(s, 6)]).toEqual([429, 429]);
    clock.jump(1000);
    expect(await answer(s, 6)).toBe(404);
  });

  it('charges each bucket exactly once per served answer when answers arrive at once', async () => {
    const { s } = await limited({ perSecond: 1, burst: 5 }, { perSecond: 1, burst: 8 });
    const flood = Array.from({ length: 10 }, () => answer(s, 5));
    const others = Array.from({ length: 3 }, () => answer(s, 6));
    const [flooded, answered] = await Promise.all([Promise.all(flood), Promise.all(others)]);
    expect(flooded.filter((status) => status === 404)).toHaveLength(5);
    expect(flooded.filter((status) => status !== 404 && status !== 429)).toEqual([]);
    expect(answered).toEqual([404, 404, 404]);
  });
});

describe('client addresses behind a proxy', () => {
  const perAddress = { perSecond: 1, burst: 2 };
  const plenty = { perSecond: 100, burst: 100 };

  /** Three answers from `first` (the third over its limit), then one from `second`. */
  async function twoClients(s: ShiftServer, first: string, second: string) {
    const statuses = [];
    for (let emp = 1; emp <= 3; emp++) statuses.push(await answer(s, emp, from(first)));
    statuses.push(await answer(s, 4, from(second)));
    return statuses;
  }

  it('gives each forwarded client its own address bucket when the proxy is trusted', async () => {
    const { s } = await limited(plenty, perAddress, { trustProxy: ['127.0.0.1'] });
    expect(await twoClients(s, '203.0.113.1', '203.0.113.2')).toEqual([404, 404, 429, 404]);
  });

  it('shares one bucket among everyone behind an untrusted peer, whatever they forward', async () => {
    const { s } = await limited(plenty, perAddress);
    expect(await twoClients(s, '203.0.113.1', '203.0.113.2')).toEqual([404, 404, 429, 429]);
    const other = await limited(plenty, perAddress, { trustProxy: ['10.0.0.1', '::1'] });
    expect(await twoClients(other.s, '203.0.113.1', '203.0.113.2')).toEqual([404, 404, 429, 429]);
  });

  it('reads the right-most untrusted address, not what the client put to its left', async () => {
    const { s } = await limited(plenty, perAddress, { trustProxy: ['loopback', '10.0.0.0/8'] });
    expect(
      await twoClients(s, '198.51.100.1, 203.0.113.1, 10.1.2.3', '198.51.100.2, 203.0.113.1'),
    ).toEqual([404, 404, 429, 429]);
  });

  it('logs a WebSocket connection as coming from the forwarded address', async () => {
    let logged = '';
    let wake = () => {};
    const sink = {
      write: (chunk: string) => {
        logged += chunk;
        wake();
      },
    };
    const log = createLogger({ format: 'json', out: sink, err: sink });
    const s = await startServer({ log, trustProxy: ['127.0.0.1'] });
    servers.push(s);
    const ws = new WebSocket(`${s.wsUrl}/5`, { headers: from('203.0.113.7') });
    const connected = new Promise<void>((resolve) => {
      wake = () => logged.includes('"event":"connect"') && resolve();
      wake();
    });
    await withTimeout(Promise.all([connected, once(ws, 'open')]), 5000, 'the connect line');
    ws.close();
    const line = logged.split('\n').find((l) => l.includes('"event":"connect"')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ emp_id: 5, from: '203.0.113.7' });
  });

  it.each([
    ['no trusted proxy', [], '127.0.0.1', '203.0.113.1', '127.0.0.1'],
    ['a trusted peer', ['127.0.0.1'], '127.0.0.1', '203.0.113.1', '203.0.113.1'],
    ['an untrusted peer', ['10.0.0.1'], '127.0.0.1', '203.0.113.1', '127.0.0.1'],
    ['no header', ['127.0.0.1'], '127.0.0.1', undefined, '127.0.0.1'],
    ['a chain', ['127.0.0.1', '10.0.0.0/8'], '127.0.0.1', '1.1.1.1, 2.2.2.2, 10.9.9.9', '2.2.2.2'],
    ['only proxies', ['loopback', '10.0.0.0/8'], '127.0.0.1', '10.0.0.2, 10.0.0.3', '10.0.0.2'],
    ['garbage at the right', ['127.0.0.1'], '127.0.0.1', '203.0.113.1, nonsense', '127.0.0.1'],
    ['garbage at the left', ['127.0.0.1'], '127.0.0.1', 'nonsense, 203.0.113.1', '203.0.113.1'],
    ['an empty hop', ['127.0.0.1'], '127.0.0.1', '203.0.113.1,', '127.0.0.1'],
    ['a port', ['127.0.0.1'], '127.0.0.1', '203.0.113.1:4711', '127.0.0.1'],
    ['IPv6', ['fd00::/8'], 'fd00::1', '2001:db8::1', '2001:db8::1'],
    ['a mapped IPv4 peer', ['loopback'], '::ffff:127.0.0.1', '203.0.113.1', '203.0.113.1'],
  ])('with %s, takes the right address', (_what, trusted, peer, header, expected) => {
    const req = {
      socket: { remoteAddress: peer },
      headers: header === undefined ? {} : { 'x-forwarded-for': header },
    } as unknown as IncomingMessage;
    expect(createClientAddress(trusted)(req)).toBe(expected);
  });

  it.each([['nonsense'], ['10.0.0.0/33'], ['::1/129'], ['10.0.0.1/8/1'], ['10.0.0.0/x'], ['']])(
    'refuses to trust %j',
    (entry) => {
      expect(() => createClientAddress([entry])).toThrow(/Cannot trust/);
    },
  );
});

describe('serve --trust-proxy', () => {
  it('separates forwarded clients, from the flag or SHIFTCTL_TRUST_PROXY', async () => {
    for (const [args, env] of [
      [['--trust-proxy', '10.0.0.1', '--trust-proxy', 'loopback'], {}],
      [[], { SHIFTCTL_TRUST_PROXY: '10.0.0.1,127.0.0.1' }],
    ] as const) {
      const { cli, url } = await serveJsonWith(
        env,
        '--db',
        ':memory:',
        '--no-fixtures',
        ...args,
        '--answers-per-address',
        '1',
      );
      const s = { url } as ShiftServer;
      const statuses = [];
      for (let emp = 1; emp <= 3; emp++) statuses.push(await answer(s, emp, from('203.0.113.1')));
      statuses.push(await answer(s, 4, from('203.0.113.2')));
      expect(statuses).toEqual([404, 404, 429, 404]);
      expect((await cli.stop()).code).toBe(0);
    }
  });

  it('refuses an entry that is not an address, a range or loopback (exit 2)', async () => {
    // Refused by the option's parser, before serve starts anything: in-process is safe.
    const bad = await inProcess(
      'serve',
      '--db',
      ':memory:',
      '--port',
      '0',
      '--trust-proxy',
      '10.0.0.1,proxy',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Cannot trust "proxy" as a proxy');
    expect(bad.stderr).not.toContain('    at ');
  });
});
