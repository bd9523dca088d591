/**
 * `shiftctl bench`, the load generator, as a user runs it: in-process (in-process.ts), and once
 * through the real binary, against a real server on port 0, at small sizes (the full comparison
 * is `npm run bench`, not part of tests).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { pidWarning } from '../src/cli/bench.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { run, STACK_FRAME } from './cli-harness.js';
import { get, startServer } from './helpers.js';
import { inProcess } from './in-process.js';

let server: ShiftServer;
beforeEach(async () => {
  server = await startServer({ answerRateLimits: false });
});
afterEach(async () => {
  await server.close();
});

it('runs every scenario against a server and reports one JSON object per scenario', async () => {
  const exit = await inProcess(
    'bench',
    '--url',
    server.url,
    '--connections',
    '30',
    '--offers',
    '60',
    '--concurrency',
    '8',
    '--broadcast',
    '20',
    '--race',
    '10',
    '--first-emp',
    '7000',
    '--first-shift',
    '900000',
    '--json',
  );

  expect(exit.stderr).not.toContain(STACK_FRAME);
  expect(exit.code).toBe(0);
  const results = exit.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(results.map((r) => r.scenario)).toEqual([
    'connect',
    'offers',
    'answers',
    'broadcast',
    'race',
    'reconnect',
  ]);
  for (const r of results)
    expect({ scenario: r.scenario, errors: r.errors }).toEqual({ scenario: r.scenario, errors: 0 });
  const [connected, offers, answers, broadcast, race, reconnect] = results;
  expect(connected.count).toBe(30);
  expect(offers).toMatchObject({ count: 60 });
  expect(offers.p99_ms).toBeGreaterThan(0);
  expect(answers).toMatchObject({ count: 60, assigned: 60 });
  expect(broadcast).toMatchObject({ count: 20 });
  expect(race).toMatchObject({ count: 10, winners: 1, losers_told: 9 });
  expect(reconnect.count).toBe(30);
  // The server agrees: the 60 answered shifts and the race's shift are assigned, each to one
  // employee; the shifts of the three broadcasts (the scenario takes the median of three) are
  // still open.
  const assigned = await get(server, '/api/admin/shifts?status=assigned');
  expect(assigned.status).toBe(200);
  expect(assigned.body).toHaveLength(61);
  for (const shift of assigned.body) expect(shift.assigned_to).toHaveLength(1);
  expect((await get(server, '/api/admin/shifts?status=open')).body).toHaveLength(3);
});

it('refuses an unknown scenario and sizes that do not fit, with usage errors', async () => {
  const unknown = await inProcess('bench', '--url', server.url, '--scenarios', 'connect,stampede');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/Unknown scenario stampede; use connect, offers/);
  expect(unknown.stderr).not.toContain(STACK_FRAME);
  expect(unknown.stdout).toBe('');

  const tooMany = await inProcess(
    'bench',
    '--url',
    server.url,
    '--scenarios',
    'connect,race',
    '--connections',
    '5',
    '--race',
    '10',
  );
  expect(tooMany.code).toBe(2);
  expect(tooMany.stderr).toMatch(/--race \(10\) cannot exceed --connections \(5\)/);
});

it('sizes the broadcast and the race to --connections when they are not given', async () => {
  const exit = await inProcess(
    'bench',
    '--url',
    server.url,
    '-n',
    '2',
    '--scenarios',
    'connect,broadcast,race',
    '--json',
  );
  expect(exit.stderr).not.toContain('cannot exceed');
  expect(exit.code).toBe(0);
  const results = exit.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(results.map((r) => [r.scenario, r.count, r.errors])).toEqual([
    ['connect', 2, 0],
    ['broadcast', 2, 0],
    ['race', 2, 0],
  ]);
});

it('refuses scenarios that cannot run without the ones they build on', async () => {
  for (const [scenarios, message] of [
    ['offers', /offers needs connect before it/],
    ['answers', /answers needs offers before it/],
    ['offers,connect', /offers needs connect before it/],
  ] as const) {
    const exit = await inProcess('bench', '--url', server.url, '--scenarios', scenarios);
    expect(exit.code, scenarios).toBe(2);
    expect(exit.stderr).toMatch(message);
    expect(exit.stderr).toContain('e.g. --scenarios connect,offers,answers');
    expect(exit.stdout).toBe('');
  }
});

it('names refused requests by status and code, with the remedy for the rate limit', async () => {
  const limited = await startServer({
    answerRateLimits: {
      employee: { perSecond: 1, burst: 1 },
      address: { perSecond: 1000, burst: 1000 },
    },
  });
  try {
    const exit = await inProcess(
      'bench',
      '--url',
      limited.url,
      '--connections',
      '1',
      '--offers',
      '4',
      '--concurrency',
      '1',
      '--scenarios',
      'connect,offers,answers',
      '--json',
    );
    expect(exit.code).toBe(1);
    const answers = exit.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .find((r) => r.scenario === 'answers');
    expect(answers).toMatchObject({ errors: 3, refused: { '429 E_RATE_LIMITED': 3 } });
    expect(exit.stderr).toContain(
      'shiftctl: answers: 3 request(s) refused with 429 E_RATE_LIMITED: the rate limits refused them; bench a shiftctl server started with serve --no-rate-limit.',
    );
  } finally {
    await limited.close();
  }
});

it('warns when --pid is not the server but the npm wrapper that started it', async () => {
  // A process that looks like `npx shiftctl serve`'s wrapper (npm exec ...).
  const wrapper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'npm', 'exec']);
  try {
    await once(wrapper, 'spawn');
    expect(pidWarning(wrapper.pid as number)).toMatch(/is npm's wrapper .*, not the server/);
    expect(pidWarning(process.pid)).toBeUndefined();
  } finally {
    wrapper.kill();
  }
  const exit = await inProcess(
    'bench',
    '--url',
    server.url,
    '--scenarios',
    'connect',
    '-n',
    '1',
    '--pid',
    '999999999',
  );
  expect(exit.stderr).toContain('warning: --pid 999999999: no such process here');
  expect(exit.code).toBe(0);
});

it('says the server cannot be reached, with exit 3 and no stack trace', async () => {
  const exit = await inProcess(
    'bench',
    '--url',
    'http://127.0.0.1:1',
    '--scenarios',
    'connect,offers',
    '--connections',
    '2',
    '--offers',
    '1',
  );
  expect(exit.code).toBe(3);
  expect(exit.stderr).toMatch(
    /Cannot reach the server at http:\/\/127\.0\.0\.1:1\/api \(connection refused\)/,
  );
  expect(exit.stderr).not.toContain(STACK_FRAME);
});

it('prints a table on stdout and its progress on stderr without --json (the binary)', async () => {
  const exit = await run(
    'bench',
    '--url',
    server.url,
    '--scenarios',
    'connect',
    '--connections',
    '5',
  );
  // Only connect runs: --broadcast and --race, left out, are sized to -n and not used.
  expect(exit.code).toBe(0);
  const [header, row] = exit.stdout.trim().split('\n');
  expect(header).toMatch(/^SCENARIO\s+COUNT\s+ERRORS\s+SECONDS\s+PER SECOND/);
  expect(row).toMatch(/^connect\s+5\s+0\s/);
  expect(exit.stderr).toMatch(/bench: connect/);
  expect(exit.stdout).not.toContain('bench: connect');
});
