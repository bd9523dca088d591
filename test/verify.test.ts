/**
 * `shiftctl verify`, in-process (in-process.ts) and once through the real binary, against
 * shiftctl's own server, against a small correct server written from PROTOCOL.md alone, and
 * against that server with deliberate defects: it must pass the correct ones and fail exactly
 * the checks each defect breaks.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth/token.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { CHECKS } from '../src/verify/checks.js';
import { CLAUSE } from '../src/verify/clauses.js';
import { type Exit, ROOT, run } from './cli-harness.js';
import {
  type ContractServer,
  type ContractServerOptions,
  type Defect,
  startContractServer,
} from './contract-server.js';
import { http, startServer } from './helpers.js';
import { inProcess } from './in-process.js';

let servers: Array<ShiftServer | ContractServer> = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

interface Line {
  check?: string;
  status?: 'pass' | 'fail' | 'skip';
  level?: string;
  message?: string;
  expected?: string;
  actual?: string;
  protocol?: { file: string; line: number; text: string };
  summary?: { passed: number; failed: number; skipped: number; level: string };
}

const parse = (exit: Exit): Line[] =>
  exit.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

const withStatus = (lines: Line[], status: Line['status']) =>
  lines
    .filter((l) => l.status === status)
    .map((l) => l.check)
    .sort();

async function contractServer(
  defects: Defect[] = [],
  options: ContractServerOptions = {},
): Promise<string> {
  const s = await startContractServer(defects, options);
  servers.push(s);
  return s.url;
}

const SECRET = 'verify-test-secret';
/** What the checks skipped by default need: a secret to mint tokens, a heartbeat to wait for. */
const FULL = ['--secret', SECRET, '--heartbeat-wait', '2s'];
/** The checks skipped without them. */
const OPT_IN = ['auth-other-employee', 'auth-required', 'heartbeat'];

/** `shiftctl verify --json` in-process. */
/**
 * verify in-process, waiting up to 6 s for what must arrive: with four test files at once, an
 * offer can take seconds to be pushed (3 s was once too short for losers-told), and a check would
 * fail that its server passes.
 */
async function verify(url: string, ...args: string[]): Promise<Exit> {
  return inProcess('verify', '--url', url, '--json', '--timeout', '6s', ...args);
}

describe('verify against correct servers', () => {
  it('passes every check against shiftctl serve with a secret and a short heartbeat', async () => {
    const s = await startServer({ secret: SECRET, heartbeatSeconds: 0.2 });
    servers.push(s);
    const exit = await verify(s.url, ...FULL);
    const lines = parse(exit);
    expect(exit.stderr).toBe('');
    expect(withStatus(lines, 'pass')).toEqual(CHECKS.map((c) => c.id).sort());
    expect(lines.at(-1)?.summary).toMatchObject({ passed: CHECKS.length, failed: 0, skipped: 0 });
    expect(exit.code).toBe(0);
    // What it offered and nobody took is withdrawn: a shared server is left as it was.
    const token = await signToken({ role: 'admin' }, SECRET, 600);
    const admin = { headers: { authorization: `Bearer ${token}` } };
    const open = await http(s, 'GET', '/api/admin/shifts?status=open', undefined, admin);
    expect(open.body).toEqual([]);
    const { body } = await http(s, 'GET', '/api/connections', undefined, admin);
    expect(body.employees.filter((e: { pending: number }) => e.pending > 0)).toEqual([]);
  });

  it('against an open server, skips the auth and heartbeat checks with the reasons', async () => {
    const s = await startServer();
    servers.push(s);
    const exit = await verify(s.url);
    const lines = parse(exit);
    expect(withStatus(lines, 'fail')).toEqual([]);
    expect(withStatus(lines, 'skip')).toEqual(OPT_IN);
    const reason = (id: string) => lines.find((l) => l.check === id)?.message;
    expect(reason('auth-required')).toMatch(/^verify was given no --token or --secret/);
    expect(reason('auth-other-employee')).toMatch(/^verify was given no --token or --secret/);
    expect(reason('heartbeat')).toMatch(/give --heartbeat-wait \(e\.g\. 60s/);
    // No warning: an open server has no authentication to test, so nothing the app needs was missed.
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
  });

  it('passes every check against a server written from PROTOCOL.md alone', async () => {
    const exit = await verify(await contractServer([], { secret: SECRET }), ...FULL);
    expect(withStatus(parse(exit), 'fail')).toEqual([]);
    expect(withStatus(parse(exit), 'skip')).toEqual([]);
    expect(exit.code).toBe(0);
  });
});

describe('verify against deliberately broken servers', () => {
  const cases: Array<{ defect: Defect; fails: string[]; args?: string[]; secret?: true }> = [
    { defect: 'wrong-types', fails: ['offer-push', 'pending-offline', 'resend-on-connect'] },
    {
      defect: 'pending-object',
      fails: [
        'closed-not-offered',
        'pending-empty',
        'pending-offline',
        'pending-unanswered',
        'reconnect-recovers',
        'respond-accept',
        'respond-reject',
      ],
    },
    {
      defect: 'no-fcfs',
      fails: ['available', 'closed-not-offered', 'first-come-first-served', 'losers-told'],
    },
    { defect: 'no-ping', fails: ['ws-ping'] },
    { defect: 'drops-bad-frames', fails: ['ws-client-frames'] },
    { defect: 'lax-ids', fails: ['bad-input'] },
    { defect: 'no-heartbeat', fails: ['heartbeat'], args: ['--heartbeat-wait', '1s'] },
    {
      defect: 'ignores-auth',
      fails: ['auth-other-employee', 'auth-required'],
      args: ['--secret', SECRET],
      secret: true,
    },
  ];
  for (const { defect, fails, args = [], secret } of cases) {
    it(`with ${defect}, fails exactly ${fails.join(', ')}`, async () => {
      const url = await contractServer([defect], secret ? { secret: SECRET } : {});
      const exit = await verify(url, ...args);
      const lines = parse(exit);
      // On a mismatch, what each failing check said (a full run on two cores once failed one).
      const said = JSON.stringify(lines.filter((l) => l.status === 'fail'));
      expect(withStatus(lines, 'fail'), said).toEqual(fails);
      for (const failed of lines.filter((l) => l.status === 'fail')) {
        expect(failed.message).toBeTruthy();
        expect(failed.protocol?.line).toBeGreaterThan(0);
      }
      expect(exit.code).toBe(1);
    });
  }

  it('says what was expected, what arrived and which line of PROTOCOL.md is broken (the binary)', async () => {
    const url = await contractServer(['wrong-types', 'no-fcfs']);
    const exit = await run('verify', '--url', url, '--timeout', '3s');
    expect(exit.code).toBe(1);
    expect(exit.stdout).not.toContain('\u001b['); // not a terminal: no colour
    expect(exit.stdout).toMatch(
      /✗ must {3}first-come-first-served .*\n +10 of 10 employees who accepted shift \d+ at once were told they got it\n +expected: exactly one answer with "assigned": true\n +arrived: +10 answers with "assigned": true \(employees [\d, ]+\)\n +breaks: +PROTOCOL.md:57 +Exactly one employee may ever win a shift/,
    );
    expect(exit.stdout).toMatch(
      /the pushed offer is not a shift_offer the app can parse \(shift_id: must be a number; date: must be a string\)/,
    );
    expect(exit.stdout).toMatch(/\d+ passed, 7 failed, 3 skipped \(level should\)/);
  });

  it('with --level must, runs only what the app needs', async () => {
    const exit = await verify(await contractServer(['no-fcfs']), '--level', 'must');
    const lines = parse(exit);
    const must = CHECKS.filter((c) => c.level === 'must').map((c) => c.id);
    expect(lines.filter((l) => l.check).map((l) => l.check)).toEqual(must);
    expect(withStatus(lines, 'fail')).toEqual([
      'available',
      'closed-not-offered',
      'first-come-first-served',
    ]);
    expect(lines.at(-1)?.summary?.level).toBe('must');
  });

  it('writes a JUnit report for CI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-verify-'));
    try {
      const file = join(dir, 'verify.xml');
      // The report names the wait: 1 s here.
      const exit = await verify(
        await contractServer(['no-ping']),
        '--junit',
        file,
        '--timeout',
        '1s',
      );
      expect(exit.code).toBe(1);
      const xml = readFileSync(file, 'utf8');
      expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
      expect(xml).toContain(
        `<testsuites name="shiftctl verify" tests="${CHECKS.length}" failures="1" skipped="${OPT_IN.length}"`,
      );
      expect(xml).toMatch(
        /<testcase classname="shiftctl.verify.must" name="ws-ping: WebSocket ping frames are answered" time="[\d.]+">\s*<failure message="a WebSocket ping frame got no pong" type="contract">expected: a pong frame within 1000 ms/,
      );
      expect(xml).toContain('breaks:   PROTOCOL.md:33');
      expect(xml.match(/<testcase /g)).toHaveLength(CHECKS.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('how verify drives a backend', () => {
  it('creates offers with --send-cmd, and skips the test endpoint check with the reason', async () => {
    const url = await contractServer();
    // The command gets the ids in its environment; here it calls the server the way a team's script would.
    const script = `fetch(process.env.SHIFTCTL_API_URL + '/test/send_offer/' + process.env.SHIFTCTL_EMP_ID + '?shift_id=' + process.env.SHIFTCTL_SHIFT_ID, { method: 'POST' }).then((r) => process.exit(r.ok ? 0 : 1))`;
    const exit = await verify(
      url,
      '--only',
      'offer-push,pending-offline,history,test-endpoint',
      '--send-cmd',
      `"${process.execPath}" -e "${script}"`,
      // Each offer starts a Node process: on a loaded machine that alone can take a second.
      '--timeout',
      '5s',
    );
    const lines = parse(exit);
    expect(withStatus(lines, 'fail')).toEqual([]);
    const skipped = lines.filter((l) => l.status === 'skip');
    expect(skipped).toEqual([
      expect.objectContaining({
        check: 'test-endpoint',
        message: 'offers are made with --send-cmd, not the test endpoint',
      }),
    ]);
    expect(exit.code).toBe(0);
  });

  it("fails the checks that need offers with the command's own error when --send-cmd fails", async () => {
    const exit = await verify(
      await contractServer(),
      '--only',
      'offer-push',
      '--send-cmd',
      'echo no such backend >&2; exit 7',
    );
    const [line] = parse(exit);
    expect(line).toMatchObject({
      check: 'offer-push',
      status: 'fail',
      expected: 'the command to exit with 0',
      actual: 'exit code 7: no such backend',
    });
    expect(exit.code).toBe(1);
  });

  it('skips, not fails, what needs offers when the backend has no test endpoint', async () => {
    const s = await startServer();
    servers.push(s);
    // Point the API somewhere without the test endpoint: the WebSocket still works.
    const exit = await inProcess(
      'verify',
      '--ws-url',
      s.wsUrl,
      '--api-url',
      `${s.url}/nowhere`,
      '--json',
      '--only',
      'ws-connect,offer-push',
    );
    const lines = parse(exit);
    expect(lines[0]).toMatchObject({ check: 'ws-connect', status: 'pass' });
    expect(lines[1]).toMatchObject({ check: 'offer-push', status: 'skip' });
    expect(lines[1]?.message).toMatch(
      /^offers cannot be created: POST .*\/nowhere\/test\/send_offer\/\d+\?shift_id=\d+ answered 404 \(.*\); give --send-cmd/,
    );
    expect(exit.stderr).toContain(
      'shiftctl: warning: 1 "must" check was skipped (offer-push): what the app needs was not all tested.',
    );
    expect(exit.code).toBe(0);
  });

  it('exits 3 with one clear line when the server cannot be reached', async () => {
    const s = await startServer();
    const url = s.url;
    await s.close(); // nothing listens there any more
    const exit = await inProcess('verify', '--url', url, '--timeout', '1s');
    expect(exit.code).toBe(3);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toBe(
      `shiftctl: Cannot reach the server at ${url}/api (connection refused). Is it running? Set the address with --url.\n`,
    );
  });

  it('runs against a server with authentication when given a token for any employee', async () => {
    const s = await startServer({ secret: SECRET });
    servers.push(s);
    const refused = await inProcess('verify', '--url', s.url);
    expect(refused.code).toBe(4);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^shiftctl: The server refused verify's requests \(HTTP 401: .*\)\. Give --token, one that may act for any employee/,
    );
    const token = await signToken({ role: 'admin' }, SECRET, 600);
    const exit = await verify(s.url, '--token', token, '--level', 'must');
    const lines = parse(exit);
    expect(withStatus(lines, 'fail')).toEqual([]);
    // A token alone proves requests without one are refused; another employee's needs the secret.
    expect(lines.find((l) => l.check === 'auth-required')?.status).toBe('pass');
    expect(lines.find((l) => l.check === 'auth-other-employee')).toMatchObject({
      status: 'skip',
      message: expect.stringMatching(/^verify was given a token but no --secret.*give --secret/),
    });
    expect(exit.stderr).toContain(
      'shiftctl: warning: 1 "must" check was skipped (auth-other-employee)',
    );
    expect(exit.code).toBe(0);
  });

  it('with the secret alone, mints its own tokens and tries one employee on another', async () => {
    const s = await startServer({ secret: SECRET });
    servers.push(s);
    const exit = await verify(s.url, '--secret', SECRET, '--level', 'must');
    expect(withStatus(parse(exit), 'fail')).toEqual([]);
    expect(withStatus(parse(exit), 'skip')).toEqual([]);
    expect(exit.stderr).toBe('');
    expect(exit.stdout).not.toContain(SECRET);
    expect(exit.code).toBe(0);
  });

  it("skips the other-employee check when --secret is not the server's", async () => {
    const s = await startServer({ secret: SECRET });
    servers.push(s);
    const token = await signToken({ role: 'admin' }, SECRET, 600);
    const only = ['--only', 'auth-required,auth-other-employee'];
    const exit = await verify(s.url, '--token', token, '--secret', 'not-the-secret', ...only);
    expect(parse(exit).slice(0, 2)).toEqual([
      expect.objectContaining({ check: 'auth-required', status: 'pass' }),
      expect.objectContaining({
        check: 'auth-other-employee',
        status: 'skip',
        message: expect.stringMatching(
          /^a token minted with --secret for employee \d+ was refused for that employee \(status 401/,
        ),
      }),
    ]);
    expect(exit.code).toBe(0);
  });

  it('says how a silent socket outlived --heartbeat-wait', async () => {
    const url = await contractServer(['no-heartbeat']);
    const exit = await verify(url, '--heartbeat-wait', '500ms', '--only', 'heartbeat');
    expect(parse(exit)[0]).toMatchObject({
      check: 'heartbeat',
      status: 'fail',
      message: 'a socket that answered no ping for 500 ms (--heartbeat-wait) was still open',
      actual: expect.stringMatching(
        /^still open after \d+ ping frame\(s\) and 0 \{"type":"ping"\} went unanswered/,
      ),
      protocol: expect.objectContaining({ line: 33 }),
    });
    // shiftctl serve with its heartbeat off sends no ping at all.
    const s = await startServer({ heartbeatSeconds: 0 });
    servers.push(s);
    const off = await verify(s.url, '--heartbeat-wait', '300ms', '--only', 'heartbeat');
    expect(parse(off)[0]?.actual).toMatch(/^still open, and the server sent it no ping at all/);
    // A heartbeat that drops live sockets too fails as well.
    const rash = await contractServer(['heartbeat-ignores-pong']);
    const both = await verify(rash, '--heartbeat-wait', '2s', '--only', 'heartbeat');
    expect(parse(both)[0]).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(
        /^the server closed the dead socket after \d+ ms, and the live one as well$/,
      ),
      expected: 'a socket that answers every ping left open',
    });
  });

  it('stops a --send-cmd that hangs, and says so', async () => {
    const url = await contractServer();
    const exit = await verify(
      url,
      '--only',
      'offer-push',
      '--send-cmd',
      'sleep 30',
      '--timeout',
      '1s',
    );
    expect(parse(exit)[0]).toMatchObject({
      check: 'offer-push',
      status: 'fail',
      message: expect.stringMatching(/^--send-cmd did not finish for employee \d+, shift \d+$/),
      expected: 'the command to exit within 1000 ms',
    });
    expect(exit.code).toBe(1);
  });

  it('refuses an unknown check id with the list of checks', async () => {
    const exit = await inProcess('verify', '--only', 'nope');
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('Unknown check nope; the checks are ws-connect, ws-ping');
    const none = await inProcess('verify', '--only', 'losers-told', '--level', 'must');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--only losers-told selects no check at --level must');
  });

  it('lists its checks with the line of PROTOCOL.md each enforces', async () => {
    const exit = await inProcess('verify', '--list');
    expect(exit.code).toBe(0);
    expect(exit.stdout.trim().split('\n')).toHaveLength(CHECKS.length);
    expect(exit.stdout).toMatch(/^must {3}first-come-first-served {4}PROTOCOL.md:57 /m);
  });
});

describe('the clauses verify cites', () => {
  it('are the lines of PROTOCOL.md they quote', () => {
    // ../shared sits beside the clone (in CI too); SHIFTCTL_SHARED_DIR points elsewhere.
    const shared = process.env.SHIFTCTL_SHARED_DIR ?? join(ROOT, '..', 'shared');
    const protocol = join(shared, 'PROTOCOL.md');
    expect(existsSync(protocol)).toBe(true);
    const lines = readFileSync(protocol, 'utf8').split('\n');
    const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
    const cited = [...Object.entries(CLAUSE), ...CHECKS.map((c) => [c.id, c.clause] as const)];
    for (const [name, clause] of cited) {
      // A quote may run onto the next lines of the file.
      const text = squash(lines.slice(clause.line - 1, clause.line + 2).join(' '));
      expect(text, `${name} cites line ${clause.line}`).toContain(squash(clause.text));
    }
  });
});
