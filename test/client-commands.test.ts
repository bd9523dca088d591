/**
 * send-offer, pending, history, respond and status against a real server on port 0: what a
 * user sees on stdout and stderr, and the exit codes. Most run in-process (in-process.ts); one
 * test per command runs the real binary (`binary`), end to end.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { ESC, ROOT, run, STACK_FRAME } from './cli-harness.js';
import {
  connect,
  get,
  manualClock,
  post,
  respond,
  startServer,
  type TestClient,
  waitForDevices,
} from './helpers.js';
import { inProcess, inProcessWithEnv } from './in-process.js';

/** Starts a fresh server before each test of the enclosing `describe` and closes it after. */
function useServer(options: () => ServerOptions = () => ({})): () => ShiftServer {
  let current: ShiftServer | undefined;
  beforeEach(async () => {
    current = await startServer(options());
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('no server running');
    return current;
  };
}

/** Runs `shiftctl ...args --url <server>` in-process. */
const shiftctl = (server: ShiftServer, ...args: string[]) =>
  inProcess(...args, '--url', server.url);

/** Runs `node bin/shiftctl.js ...args --url <server>`: the real binary, in a process of its own. */
const binary = (server: ShiftServer, ...args: string[]) => run(...args, '--url', server.url);

const jsonLines = (stdout: string): any[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

/** A table as rows of cells: cells are separated by at least two spaces. */
const cells = (table: string): string[][] =>
  table
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {2,}/));

const sendTest = (server: ShiftServer, empId: number, shiftId: number, body?: unknown) =>
  post(server, `/api/test/send_offer/${empId}?shift_id=${shiftId}`, body);

const SEED_OFFER = {
  type: 'shift_offer',
  date: '2026-01-20',
  start_time: '09:00',
  end_time: '17:00',
  location_name: 'Outreach Center',
  client_name: 'Test Client',
  service_type: 'Home Care',
  description: 'Test shift offer from backend',
};

const clients: TestClient[] = [];
async function online(server: ShiftServer, empId: number, devices = 1): Promise<TestClient[]> {
  const opened: TestClient[] = [];
  for (let i = 0; i < devices; i++) opened.push(await connect(server, empId));
  clients.push(...opened);
  await waitForDevices(server, empId, devices);
  return opened;
}
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

describe('shiftctl send-offer', () => {
  const server = useServer();

  it('offers an urgent shift with --urgent: marked on the wire, listed first, said so', async () => {
    const [phone] = await online(server(), 123);
    await sendTest(server(), 123, 455);
    const exit = await shiftctl(server(), 'send-offer', '123', '--shift', '456', '--urgent');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout).toBe('Employee 123: shift 456 (urgent) sent live to 1 device.\n');
    expect(await phone?.offer(456)).toEqual({ ...SEED_OFFER, shift_id: 456, priority: 'urgent' });
    const pending = await get(server(), '/api/shift_offers/pending/123');
    expect(pending.body.map((o: { shift_id: number }) => o.shift_id)).toEqual([456, 455]);
    expect((await get(server(), '/api/admin/shifts/456')).body.priority).toBe('urgent');
    // The offer file of an urgent cover shift says so itself.
    const file = join(ROOT, 'fixtures/offers/urgent-cover.json');
    await shiftctl(server(), 'send-offer', '124', '--shift', '457', '--file', file);
    expect((await get(server(), '/api/admin/shifts/457')).body).toMatchObject({
      priority: 'urgent',
      service_type: 'Dementia Care',
    });
  });

  it('delivers live to a connected employee and stores the offer for an offline one', async () => {
    const [phone] = await online(server(), 123);
    const exit = await shiftctl(server(), 'send-offer', '123', '124', '--shift', '456');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout).toBe(
      'Employee 123: shift 456 sent live to 1 device.\n' +
        'Employee 124: shift 456 stored as pending; it is sent when they connect.\n',
    );
    expect(exit.stdout).not.toContain(ESC);
    expect(await phone?.offer(456)).toEqual({ ...SEED_OFFER, shift_id: 456 });
    const pending = await get(server(), '/api/shift_offers/pending/124');
    expect(pending.body).toEqual([{ ...SEED_OFFER, shift_id: 456 }]);
  });

  it('reaches the server through either address the banner prints', async () => {
    for (const flags of [
      ['--url', server().apiUrl],
      ['--ws-url', server().wsUrl],
    ]) {
      const exit = await inProcess('send-offer', '31', '--shift', '4100', ...flags);
      expect(exit, flags.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(exit.stdout).toContain('Employee 31: shift 4100 stored as pending');
    }
  });

  it('prints one JSON object per employee with --json, for a fresh shift each time by default', async () => {
    const [phone] = await online(server(), 7, 2);
    // The seed's default shift, taken: a send without --shift must not run into it.
    await sendTest(server(), 9, 999);
    await respond(server(), 9, 999, 'accepted');
    const exit = await shiftctl(server(), 'send-offer', '7', '8', '--json');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    const lines = jsonLines(exit.stdout);
    const shiftId = lines[0]?.shift_id;
    expect(shiftId).not.toBe(999);
    expect(lines).toEqual([
      { emp_id: 7, shift_id: shiftId, status: 'sent', devices: 2 },
      { emp_id: 8, shift_id: shiftId, status: 'pending', devices: 0 },
    ]);
    expect(await phone?.offer(shiftId)).toEqual({ ...SEED_OFFER, shift_id: shiftId });
    const again = await shiftctl(server(), 'send-offer', '7');
    const next = /Offering a new shift, (\d+) \(give --shift/.exec(again.stderr)?.[1];
    expect(Number(next)).not.toBe(shiftId);
    expect(again.stdout).toBe(`Employee 7: shift ${next} sent live to 2 devices.\n`);
  });

  it('sends the offer fields given as options', async () => {
    const [phone] = await online(server(), 123);
    const exit = await shiftctl(
      server(),
      'send-offer',
      '123',
      '--shift',
      '457',
      '--date',
      '2026-02-01',
      '--start',
      '22:00',
      '--end',
      '07:00',
      '--location',
      'Elm House',
      '--client',
      'Ruth Patel',
      '--service',
      'Overnight Care',
      '--description',
      'Sleep-in support.',
    );
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(await phone?.offer(457)).toEqual({
      type: 'shift_offer',
      shift_id: 457,
      date: '2026-02-01',
      start_time: '22:00',
      end_time: '07:00',
      location_name: 'Elm House',
      client_name: 'Ruth Patel',
      service_type: 'Overnight Care',
      description: 'Sleep-in support.',
    });
  });

  it("sends an offer file with its shift_id, the options overriding the file's fields", async () => {
    const exit = await shiftctl(
      server(),
      'send-offer',
      '5',
      '6',
      '--file',
      join(ROOT, 'fixtures/offers/overnight.json'),
      '--location',
      'Elm House',
    );
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout).toContain('Employee 5: shift 2001 stored as pending');
    const pending = await shiftctl(server(), 'pending', '6', '--json');
    expect(jsonLines(pending.stdout)).toEqual([
      {
        type: 'shift_offer',
        shift_id: 2001,
        date: '2026-12-08',
        start_time: '22:00',
        end_time: '07:00',
        location_name: 'Elm House',
        client_name: 'Harold Jenkins',
        service_type: 'Overnight Care',
        description: expect.stringContaining('Waking night care'),
      },
    ]);
  });

  it('takes an offer line printed by pending --json as an offer file', async () => {
    await sendTest(server(), 5, 458, { location_name: 'Elm House', client_name: 'Ruth Patel' });
    const pending = await shiftctl(server(), 'pending', '5', '--json');
    const file = join(mkdtempSync(join(tmpdir(), 'shiftctl-offer-')), 'offer.json');
    writeFileSync(file, pending.stdout);
    try {
      const exit = await shiftctl(server(), 'send-offer', '6', '--file', file, '--json');
      expect(exit).toMatchObject({ code: 0, stderr: '' });
      expect(jsonLines(exit.stdout)).toEqual([
        { emp_id: 6, shift_id: 458, status: 'pending', devices: 0 },
      ]);
      expect((await get(server(), '/api/shift_offers/pending/6')).body).toEqual(
        jsonLines(pending.stdout),
      );
    } finally {
      rmSync(join(file, '..'), { recursive: true, force: true });
    }
  });

  it.each(readdirSync(join(ROOT, 'fixtures', 'offers')))(
    'accepts the example offer file %s',
    async (name) => {
      const exit = await shiftctl(
        server(),
        'send-offer',
        '5',
        '--file',
        join(ROOT, 'fixtures', 'offers', name),
        '--shift',
        '3000',
        '--json',
      );
      expect(exit).toMatchObject({ code: 0, stderr: '' });
      expect(jsonLines(exit.stdout)).toEqual([
        { emp_id: 5, shift_id: 3000, status: 'pending', devices: 0 },
      ]);
    },
  );

  it('continues after a refusal, then exits 4 with the server message (the binary)', async () => {
    await sendTest(server(), 1, 7);
    await respond(server(), 1, 7, 'rejected');
    const exit = await binary(server(), 'send-offer', '1', '2', '--shift', '7');
    expect(exit.code).toBe(4);
    expect(exit.stdout).toBe(
      'Employee 2: shift 7 stored as pending; it is sent when they connect.\n',
    );
    expect(exit.stderr).toBe(
      'Employee 1: shift 7 refused: Employee 1 already answered shift 7 (rejected); offer another shift_id. (409 E_OFFER_ANSWERED)\n' +
        'shiftctl: the server refused 1 of 2 offers.\n',
    );
  });

  it('is refused with exit 4 once the shift is assigned, in JSON too', async () => {
    await sendTest(server(), 1, 7);
    await respond(server(), 1, 7, 'accepted');
    const human = await shiftctl(server(), 'send-offer', '2', '--shift', '7');
    expect(human.code).toBe(4);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain('Shift 7 is already assigned; it can no longer be offered.');

    const json = await shiftctl(server(), 'send-offer', '2', '3', '--shift', '7', '--json');
    expect(json.code).toBe(4);
    const error = {
      status: 409,
      code: 'E_SHIFT_TAKEN',
      message:
        'Shift 7 is already assigned; it can no longer be offered. Offer another shift id, or start over with `shiftctl reset`.',
    };
    expect(jsonLines(json.stdout)).toEqual([
      { emp_id: 2, shift_id: 7, error },
      { emp_id: 3, shift_id: 7, error },
    ]);
    expect(json.stderr).toBe('shiftctl: the server refused 2 of 2 offers.\n');
    // One employee refused: the documented line, and only it (no error line of shiftctl's own,
    // which has no server status, after it).
    const one = await shiftctl(server(), 'send-offer', '2', '--shift', '7', '--json');
    expect(one.code).toBe(4);
    expect(jsonLines(one.stdout)).toEqual([{ emp_id: 2, shift_id: 7, error }]);
    expect(one.stderr).toBe('shiftctl: the server refused the offer.\n');
  });
});

describe('shiftctl send-offer with bad input', () => {
  const server = useServer();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shiftctl-offers-'));
    writeFileSync(join(dir, 'broken.json'), '{"date": ');
    writeFileSync(
      join(dir, 'wrong.json'),
      JSON.stringify({ date: '2026-02-30', start_time: '9am', shift_id: 'x', room: 4 }),
    );
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs send-offer and checks that it is a usage error that sent nothing. */
  async function refused(...args: string[]): Promise<string> {
    const exit = await shiftctl(server(), 'send-offer', '5', ...args);
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).not.toContain(STACK_FRAME);
    expect((await get(server(), '/api/shift_offers/pending/5')).body).toEqual([]);
    return exit.stderr;
  }

  it('names a missing file', async () => {
    const file = join(dir, 'missing.json');
    expect(await refused('--file', file)).toBe(`shiftctl: Offer file not found: ${file}\n`);
  });

  it('names a file that is not JSON', async () => {
    const stderr = await refused('--file', join(dir, 'broken.json'));
    expect(stderr).toContain(`Offer file ${join(dir, 'broken.json')} is not valid JSON`);
  });

  it('names the file and every bad field', async () => {
    const file = join(dir, 'wrong.json');
    expect(await refused('--file', file)).toBe(
      `shiftctl: Invalid offer in ${file}:\n` +
        '  date: is not a real calendar date\n' +
        '  start_time: must be a 24-hour time as HH:MM\n' +
        '  shift_id: must be a number\n' +
        '  (top level): unknown field room\n',
    );
  });

  it.each([
    ['--date', '2026-02-30', 'It is not a real calendar date.'],
    ['--start', '9', 'It must be a 24-hour time as HH:MM.'],
    ['--shift', '0', 'Expected a whole number from 1 up.'],
  ])('refuses %s %s', async (flag, value, why) => {
    const stderr = await refused(flag, value);
    expect(stderr).toContain(`option '${flag} `);
    expect(stderr).toContain(`'${value}' is invalid. ${why}`);
  });

  it('refuses an employee id that is not a positive integer', async () => {
    const exit = await shiftctl(server(), 'send-offer', '5', 'abc');
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain("'abc' is invalid for argument 'emp_id'");
    expect((await get(server(), '/api/shift_offers/pending/5')).body).toEqual([]);
  });
});

describe("shiftctl against a server with only the seed's endpoints", () => {
  let seed: Server;
  let url: string;
  const requests: { method: string; url: string; contentType: string; body: string }[] = [];

  // Stands in for the seed's Python server (not a part of shiftctl): its test endpoint and
  // debug list, and FastAPI's 404 for everything else.
  beforeAll(async () => {
    seed = createHttpServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          contentType: req.headers['content-type'] ?? '',
          body,
        });
        const offer = /^\/api\/test\/send_offer\/(\d+)\?shift_id=(\d+)$/.exec(req.url ?? '');
        const answer = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (req.method === 'POST' && offer) {
          answer(200, { status: 'sent', emp_id: Number(offer[1]), shift_id: Number(offer[2]) });
        } else if (req.method === 'GET' && req.url === '/api/connections') {
          answer(200, { active_connections: [123], total: 1 });
        } else {
          answer(404, { detail: 'Not Found' });
        }
      });
    });
    await new Promise<void>((resolve) => seed.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(seed.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => seed.close(resolve));
  });
  beforeEach(() => {
    requests.length = 0;
  });

  it('send-offer to one employee with no fields makes one bodiless POST', async () => {
    const exit = await inProcess('send-offer', '123', '--shift', '456', '--url', url);
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout).toBe('Employee 123: shift 456 sent live.\n');
    expect(requests).toEqual([
      { method: 'POST', url: '/api/test/send_offer/123?shift_id=456', contentType: '', body: '' },
    ]);
  });

  it('status lists the connected employees and notes that there is no admin API (the binary)', async () => {
    const exit = await run('status', '--url', url);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe(
      'Employees (1 connected)\nEMPLOYEE  CONNECTED  DEVICES  PENDING\n123       yes        -        -\n',
    );
    expect(exit.stderr).toBe(
      'Note: this server has no admin API (404), so open shifts are not shown.\n',
    );
    const json = await inProcess('status', '--json', '--url', url);
    expect(jsonLines(json.stdout)).toEqual([
      { type: 'employee', emp_id: 123, connected: true, devices: null, pending: null },
    ]);
  });
});

describe('shiftctl pending', () => {
  const server = useServer();

  it('says on stderr that there is nothing pending, and prints nothing on stdout (the binary)', async () => {
    const exit = await binary(server(), 'pending', '7');
    expect(exit).toEqual({
      code: 0,
      signal: null,
      stdout: '',
      stderr: 'No pending offers for employee 7.\n',
    });
    const json = await shiftctl(server(), 'pending', '7', '--json');
    expect(json).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('prints a table of the open offers, urgent first, then oldest first', async () => {
    await sendTest(server(), 5, 456);
    await sendTest(server(), 5, 457, {
      date: '2026-02-01',
      start_time: '13:00',
      end_time: '21:00',
      location_name: 'Elm House',
      client_name: null,
    });
    await sendTest(server(), 5, 458, { priority: 'urgent' });
    const exit = await shiftctl(server(), 'pending', '5');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout).not.toContain(ESC);
    const row = ['2026-01-20', '09:00-17:00', 'Outreach Center', 'Test Client', 'Home Care'];
    expect(cells(exit.stdout)).toEqual([
      ['SHIFT', 'PRIORITY', 'DATE', 'TIME', 'LOCATION', 'CLIENT', 'SERVICE'],
      ['458', 'urgent', ...row],
      ['456', 'normal', ...row],
      ['457', 'normal', '2026-02-01', '13:00-21:00', 'Elm House', '-', 'Home Care'],
    ]);
  });

  it('prints each offer as the server sent it with --json, from SHIFTCTL_URL', async () => {
    await sendTest(server(), 5, 456);
    await sendTest(server(), 5, 457);
    const exit = await inProcessWithEnv({ SHIFTCTL_URL: server().url }, 'pending', '5', '--json');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(exit.stdout)).toEqual(
      (await get(server(), '/api/shift_offers/pending/5')).body,
    );
    expect(jsonLines(exit.stdout).map((o) => o.shift_id)).toEqual([456, 457]);
  });
});

describe('shiftctl history', () => {
  let clock = manualClock();
  const server = useServer(() => {
    clock = manualClock(Date.parse('2026-01-14T15:30:00.000Z'));
    return { clock };
  });
  const utc = (...args: string[]) =>
    inProcessWithEnv({ TZ: 'UTC' }, ...args, '--url', server().url);

  /** Offers shifts 1, 2, 3 to employee 5 a minute apart; 5 accepts 1 and rejects 2. */
  async function threeOffers(): Promise<void> {
    for (const shiftId of [1, 2, 3]) {
      await sendTest(server(), 5, shiftId, shiftId === 3 ? { priority: 'urgent' } : {});
      clock.advance(60_000);
    }
    await respond(server(), 5, 1, 'accepted');
    await respond(server(), 5, 2, 'rejected');
  }

  it('prints the newest offers first, at most --limit, with local send times', async () => {
    await threeOffers();
    const exit = await utc('history', '5', '--limit', '2');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout).not.toContain(ESC);
    expect(cells(exit.stdout)).toEqual([
      ['SHIFT', 'PRIORITY', 'DATE', 'TIME', 'LOCATION', 'SENT', 'RESPONSE', 'OUTCOME'],
      [
        '3',
        'urgent',
        '2026-01-20',
        '09:00-17:00',
        'Outreach Center',
        '2026-01-14 15:32',
        '-',
        'open',
      ],
      [
        '2',
        'normal',
        '2026-01-20',
        '09:00-17:00',
        'Outreach Center',
        '2026-01-14 15:31',
        'rejected',
        'rejected',
      ],
    ]);
  });

  it('prints one JSON object per offer with --json', async () => {
    await threeOffers();
    const exit = await utc('history', '5', '--json', '--limit', '3');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    const items = jsonLines(exit.stdout);
    expect(items.map((i) => [i.shift_id, i.response, i.outcome])).toEqual([
      [3, null, 'open'],
      [2, 'rejected', 'rejected'],
      [1, 'accepted', 'assigned'],
    ]);
    // An urgent offer says so; a normal one is as the seed sent it.
    expect(items.map((i) => i.priority)).toEqual(['urgent', undefined, undefined]);
    expect(items[2]).toMatchObject({ type: 'shift_offer', sent_at: '2026-01-14T15:30:00.000Z' });
  });

  it('prints at most 50 offers by default', async () => {
    for (let shiftId = 1; shiftId <= 51; shiftId++) await sendTest(server(), 5, shiftId);
    const exit = await utc('history', '5', '--json');
    expect(exit.code).toBe(0);
    expect(jsonLines(exit.stdout)).toHaveLength(50);
  });

  it('says on stderr when there is no history (the binary)', async () => {
    const exit = await run('history', '9', '--url', server().url);
    expect(exit).toMatchObject({ code: 0, stdout: '', stderr: 'No offers for employee 9 yet.\n' });
  });

  it.each(['0', '1001', 'ten'])('refuses --limit %s with exit 2', async (limit) => {
    const exit = await utc('history', '5', '--limit', limit);
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain('whole number from 1 to 1000');
  });
});

describe('shiftctl respond', () => {
  const server = useServer();
  beforeEach(async () => {
    await sendTest(server(), 1, 456);
    await sendTest(server(), 2, 456);
  });

  it('accept: the employee gets the shift and the server records it (the binary)', async () => {
    const [phone] = await online(server(), 1);
    const exit = await binary(server(), 'respond', '1', '--shift', '456', 'accept');
    expect(exit).toEqual({
      code: 0,
      signal: null,
      stdout: 'Assigned: shift 456 is yours.\n',
      stderr: '',
    });
    expect(await phone?.result(456)).toEqual({
      type: 'offer_result',
      shift_id: 456,
      status: 'assigned',
    });
    const shift = await get(server(), '/api/admin/shifts/456');
    expect(shift.body).toMatchObject({ status: 'assigned', assigned_to: [1] });
  });

  it('a later accept hears that the shift was taken (exit 0)', async () => {
    await respond(server(), 1, 456, 'accepted');
    const exit = await shiftctl(server(), 'respond', '2', '--shift', '456', 'accepted');
    expect(exit).toMatchObject({
      code: 0,
      stdout: 'Taken: shift 456 went to someone else.\n',
      stderr: '',
    });
  });

  it('reject', async () => {
    const exit = await shiftctl(server(), 'respond', '2', '--shift', '456', 'reject');
    expect(exit).toMatchObject({ code: 0, stdout: 'Rejected shift 456.\n', stderr: '' });
    const pending = await get(server(), '/api/shift_offers/pending/2');
    expect(pending.body).toEqual([]);
  });

  it("prints the server's answer as one JSON line with --json", async () => {
    const exit = await shiftctl(server(), 'respond', '1', '--shift', '456', 'rejected', '--json');
    expect(exit).toMatchObject({ code: 0, stderr: '' });
    expect(exit.stdout.endsWith('\n')).toBe(true);
    expect(jsonLines(exit.stdout)).toEqual([
      {
        success: true,
        assigned: false,
        message: 'Shift offer rejected',
        timestamp: expect.any(String),
        shift_id: 456,
        emp_id: 1,
        outcome: 'rejected',
      },
    ]);
  });

  it('prints a refusal with --json as one error line, the shape every command uses', async () => {
    const never = await shiftctl(server(), 'respond', '3', '--shift', '456', 'accept', '--json');
    expect(never.code).toBe(4);
    expect(jsonLines(never.stdout)).toEqual([
      {
        error: {
          status: 404,
          code: 'E_OFFER_NOT_FOUND',
          message: 'Shift 456 was never offered to employee 3.',
        },
      },
    ]);
    expect(never.stderr).toMatch(/^shiftctl: Shift 456 was never offered/);
    const withdraw = await shiftctl(server(), 'withdraw', '99999', '--json');
    expect(withdraw.code).toBe(4);
    expect(jsonLines(withdraw.stdout)).toEqual([
      { error: { status: 404, code: 'E_SHIFT_NOT_FOUND', message: 'Shift 99999 does not exist.' } },
    ]);
    const unreachable = await inProcess(
      'approve',
      '1',
      '2',
      '--json',
      '--url',
      'http://127.0.0.1:1',
    );
    expect(unreachable.code).toBe(3);
    expect(jsonLines(unreachable.stdout)).toEqual([
      {
        error: {
          code: 'E_UNREACHABLE',
          message: expect.stringMatching(/^Cannot reach the server/),
        },
      },
    ]);
  });

  it('colours the outcome only when colour is forced on a pipe', async () => {
    const exit = await inProcessWithEnv(
      { FORCE_COLOR: '1' },
      'respond',
      '1',
      '--shift',
      '456',
      'accept',
      '--url',
      server().url,
    );
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain(ESC);
  });

  it('exits 4 with the server message for an offer never made (404)', async () => {
    const exit = await shiftctl(server(), 'respond', '3', '--shift', '456', 'accept');
    expect(exit).toMatchObject({
      code: 4,
      stdout: '',
      stderr: 'shiftctl: Shift 456 was never offered to employee 3. (404 E_OFFER_NOT_FOUND)\n',
    });
  });

  it('exits 4 with the server message for a changed answer (409)', async () => {
    await respond(server(), 1, 456, 'accepted');
    const exit = await shiftctl(server(), 'respond', '1', '--shift', '456', 'reject');
    expect(exit).toMatchObject({
      code: 4,
      stdout: '',
      stderr:
        'shiftctl: Employee 1 already accepted shift 456; an answer cannot be changed. (409 E_ANSWER_CONFLICT)\n',
    });
  });

  it.each([
    [['1', '--shift', '456', 'maybe'], "argument 'answer'. Expected accept or reject."],
    [['1', 'accept'], "required option '--shift <id>' not specified"],
    [['0', '--shift', '456', 'accept'], "argument 'emp_id'. Expected a whole number from 1 up."],
  ])('refuses respond %j with exit 2', async (args, message) => {
    const exit = await shiftctl(server(), 'respond', ...args);
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(message);
    expect((await get(server(), '/api/admin/shifts/456')).body.offers).toMatchObject({
      accepted: 0,
      rejected: 0,
    });
  });
});

describe('shiftctl status', () => {
  const server = useServer();

  it('says so when nothing is connected or open', async () => {
    const exit = await shiftctl(server(), 'status');
    expect(exit).toMatchObject({
      code: 0,
      stderr: '',
      stdout:
        'Employees (0 connected)\nNo employee is connected or holds an open offer.\n\n' +
        'Open shifts (0)\nNo open shifts.\n',
    });
  });

  describe('with two employees and two shifts, one assigned', () => {
    beforeEach(async () => {
      await online(server(), 123, 2);
      await sendTest(server(), 123, 456, { priority: 'urgent' });
      await sendTest(server(), 124, 456);
      await sendTest(server(), 124, 457, { location_name: 'Elm House' });
      await respond(server(), 124, 457, 'accepted');
    });

    it('prints the employees and the open shifts as two tables', async () => {
      const exit = await shiftctl(server(), 'status');
      expect(exit).toMatchObject({ code: 0, stderr: '' });
      expect(exit.stdout).not.toContain(ESC);
      const [employees = '', shifts = ''] = exit.stdout.split('\n\n');
      expect(cells(employees)).toEqual([
        ['Employees (1 connected)'],
        ['EMPLOYEE', 'CONNECTED', 'DEVICES', 'PENDING'],
        ['123', 'yes', '2', '1'],
        ['124', 'no', '0', '1'],
      ]);
      expect(cells(shifts)).toEqual([
        ['Open shifts (1)'],
        [
          'SHIFT',
          'PRIORITY',
          'DATE',
          'TIME',
          'LOCATION',
          'SERVICE',
          'OFFERED',
          'WAITING',
          'REJECTED',
        ],
        [
          '456',
          'urgent',
          '2026-01-20',
          '09:00-17:00',
          'Outreach Center',
          'Home Care',
          '2',
          '2',
          '0',
        ],
      ]);
    });

    it('prints one object per employee and per open shift with --json', async () => {
      const exit = await shiftctl(server(), 'status', '--json');
      expect(exit).toMatchObject({ code: 0, stderr: '' });
      const open = (await get(server(), '/api/admin/shifts?status=open')).body;
      expect(jsonLines(exit.stdout)).toEqual([
        { type: 'employee', emp_id: 123, connected: true, devices: 2, pending: 1 },
        { type: 'employee', emp_id: 124, connected: false, devices: 0, pending: 1 },
        // The admin API's shift, with `id` as `shift_id`.
        ...open.map(({ id, ...rest }: { id: number }) => ({
          type: 'shift',
          shift_id: id,
          ...rest,
        })),
      ]);
      expect(jsonLines(exit.stdout)[2]).toMatchObject({
        type: 'shift',
        shift_id: 456,
        date: '2026-01-20',
        start_time: '09:00',
        end_time: '17:00',
        location_name: 'Outreach Center',
        priority: 'urgent',
        status: 'open',
        offers: { total: 2, open: 2, rejected: 0 },
      });
    });
  });
});

describe('every client command with the server down', () => {
  let url: string;
  beforeAll(async () => {
    const server = await startServer();
    url = server.url;
    await server.close();
  });

  it.each([
    ['send-offer', '5', '6'],
    ['pending', '5'],
    ['history', '5'],
    ['respond', '5', '--shift', '1', 'accept'],
    ['status'],
  ])('%s exits 3 and says it cannot reach the server', async (...args) => {
    const exit = await inProcess(...args, '--url', url);
    expect(exit.code).toBe(3);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain('Cannot reach the server');
    expect(exit.stderr).toContain(`${url}/api`);
    expect(exit.stderr).not.toContain(STACK_FRAME);
    expect(exit.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('every client command against a web server that is not shiftctl', () => {
  let web: Server;
  let url: string;
  const PAGE =
    '<!DOCTYPE HTML>\n<html lang="en">\n  <head><title>Error response</title></head>\n  <body>\n    <h1>Error response</h1>\n    <p>Error code: 404</p>\n  </body>\n</html>\n';

  // A static web server, as `python3 -m http.server` is: an HTML page for every error, and
  // a 200 HTML listing for one path (a folder).
  beforeAll(async () => {
    web = createHttpServer((req, res) => {
      if (req.url === '/api/shift_offers/pending/1') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!DOCTYPE HTML>\n<html><body><h1>Directory listing</h1></body></html>\n');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/html;charset=utf-8' });
      res.end(PAGE);
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => web.close(resolve));
  });

  const SUMMARY = "the answer is not shiftctl's JSON (text/html): is --url a shiftctl server?";

  it.each([
    // send-offer's refusal of each employee has a line, then its own failure.
    [['send-offer', '5', '--shift', '6'], 2],
    [['pending', '123'], 1],
    [['history', '5'], 1],
    [['respond', '5', '--shift', '1', 'accept'], 1],
    [['status'], 1],
  ])("%j says the answer is not shiftctl's, a line per failure, no HTML", async (args, lines) => {
    const exit = await inProcess(...args, '--url', url);
    expect(exit.code).toBe(4);
    expect(exit.stderr).toContain(SUMMARY);
    expect(exit.stderr).not.toContain('<');
    expect(exit.stderr.trimEnd().split('\n')).toHaveLength(lines);
  });

  it('gives --json the summary as the error line', async () => {
    const exit = await inProcess('pending', '123', '--json', '--url', url);
    expect(exit.code).toBe(4);
    expect(jsonLines(exit.stdout)).toEqual([
      {
        error: {
          status: 404,
          code: null,
          message: SUMMARY,
        },
      },
    ]);
  });

  it('listen says so on one line for the offers it reads and for its socket', async () => {
    const exit = await inProcess('listen', '123', '--json', '--max-retries', '0', '--url', url);
    expect(exit.code).toBe(4);
    const events = jsonLines(exit.stdout);
    const said = events
      .filter((e) => e.event === 'error' || e.state === 'failed')
      .map((e) => e.message ?? e.reason);
    expect(said).toEqual([
      `${SUMMARY} (404, GET /shift_offers/pending/123)`,
      `the server refused the connection: HTTP 404: ${SUMMARY}`,
    ]);
    expect(exit.stdout).not.toContain('<');
  });

  it('names what a 200 answer was when it is not JSON (the contract needs JSON)', async () => {
    const exit = await inProcess('pending', '1', '--url', url);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toBe(
      'shiftctl: GET /shift_offers/pending/1: the answer is not JSON (text/html): is --url a shiftctl server?\n',
    );
  });

  it('says on one line that an https:// --url is answered in plain HTTP', async () => {
    const exit = await inProcess('pending', '1', '--url', url.replace('http:', 'https:'));
    expect(exit.code).toBe(3);
    expect(exit.stderr).toBe(
      `shiftctl: Cannot reach the server at ${url.replace('http:', 'https:')}/api (wrong version number: no TLS there, is it an http:// server?). Is it running? Set the address with --url.\n`,
    );
  });
});
