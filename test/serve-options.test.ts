/**
 * `serve`'s options as parsed, without starting a server: the program is built as the binary
 * builds it, with the action replaced by one that keeps what it was given. Checks made while
 * parsing (the hooks before the action) still run; a refusal rejects as it would in a run.
 */
import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import type { ServeFlags } from '../src/cli/serve.js';
import { inProcessWithEnv } from './in-process.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

/** `shiftctl serve ...args` parsed with `env` added to the user's environment. */
async function parsed(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ flags: ServeFlags; command: Command }> {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('SHIFTCTL_') && !(key in env)) vi.stubEnv(key, undefined);
  }
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  const program = buildProgram();
  const serve = program.commands.find((c) => c.name() === 'serve') as Command;
  let got: { flags: ServeFlags; command: Command } | undefined;
  serve.action((flags: ServeFlags, command: Command) => {
    got = { flags, command };
  });
  await program.parseAsync(['node', 'shiftctl', 'serve', ...args]);
  if (!got) throw new Error('serve did not run');
  return got;
}

describe('serve --drain', () => {
  it.each([
    ['5', 5],
    ['5s', 5],
    ['500ms', 0.5],
    ['1m', 60],
    ['0', 0],
  ])('takes %s as a duration (a bare number is seconds)', async (value, seconds) => {
    const { flags } = await parsed(['--drain', value]);
    expect(flags.drain).toBe(seconds);
  });

  it('refuses a drain past 5 minutes, or not a duration, with exit 2', async () => {
    for (const value of ['301', '6m', 'soon']) {
      const exit = await inProcessWithEnv({}, 'serve', '--db', ':memory:', '--drain', value);
      expect([value, exit.code]).toEqual([value, 2]);
      expect(exit.stderr).toContain('--drain');
    }
  });
});

/** What `serve ...args` is refused with while parsing (it must be). */
async function refused(args: string[], env: Record<string, string> = {}): Promise<unknown> {
  return parsed(args, env).then(
    () => {
      throw new Error(`serve ${args.join(' ')} was not refused`);
    },
    (err: unknown) => err,
  );
}

describe('serve --db', () => {
  it.each([
    'mysql://root@127.0.0.1/explore',
    'MySQL://root@127.0.0.1/explore',
    'sqlite://./shiftctl.db',
    'file:///tmp/shiftctl.db',
    'redis://127.0.0.1:6379',
  ])('refuses %s as a usage error naming the URLs it takes', async (db) => {
    const err = await refused(['--db', db]);
    expect(err).toMatchObject({ code: 'E_USAGE' });
    expect((err as Error).message).toMatch(/^--db .* postgres:\/\/ and postgresql:\/\//);
  });

  it('hides the password of a URL it refuses', async () => {
    const err = await refused(['--db', 'mysql://root:hunter2@127.0.0.1/explore']);
    expect((err as Error).message).toContain('mysql://root:***@127.0.0.1/explore');
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('takes plain paths, :memory: and PostgreSQL URLs', async () => {
    for (const db of [
      'shifts.db',
      './data/shifts.db',
      '/var/lib/shiftctl/offers.db',
      ':memory:',
      'postgres://app@127.0.0.1:5432/shifts',
      'POSTGRESQL://app@127.0.0.1:5432/shifts?schema=team_2',
    ]) {
      expect((await parsed(['--db', db])).flags.db).toBe(db);
    }
  });

  it.each(['bad-name', '', '1st', 'x"; DROP TABLE y; --'])(
    'refuses the schema name %j in the URL before connecting',
    async (schema) => {
      const db = `postgresql://root@127.0.0.1:5432/x?schema=${encodeURIComponent(schema)}`;
      const err = await refused(['--db', db]);
      expect(err).toMatchObject({
        code: 'E_USAGE',
        message: `The schema name ${JSON.stringify(schema)} in --db is not a plain identifier (letters, digits, _).`,
      });
    },
  );

  it('refuses an empty --db', async () => {
    const err = await refused(['--db', '']);
    expect(err).toMatchObject({ code: 'E_USAGE' });
    expect((err as Error).message).toMatch(/^--db must not be empty/);
  });

  it('exits 2 with one line for a database URL it cannot use, opening nothing', async () => {
    const db = 'postgresql://root@127.0.0.1:1/nowhere?schema=bad-name';
    for (const [value, message] of [
      ['mysql://root@127.0.0.1/explore', /^shiftctl: --db mysql:\/\/root@127\.0\.0\.1\/explore /],
      [db, /^shiftctl: The schema name "bad-name" in --db is not a plain identifier/],
      ['', /^shiftctl: --db must not be empty/],
    ] as const) {
      const exit = await inProcessWithEnv({}, 'serve', '--port', '0', '--db', value);
      expect([value, exit.code, exit.stdout]).toEqual([value, 2, '']);
      expect(exit.stderr).toMatch(message);
      expect(exit.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('serve --redis', () => {
  const db = 'postgres://app@127.0.0.1:5432/shifts';

  it.each([
    'redis://127.0.0.1:6379',
    'redis://127.0.0.1:6379/',
    'rediss://h:6380/0',
    'redis://h/15',
  ])('takes %s', async (redis) => {
    expect((await parsed(['--db', db, '--redis', redis])).flags.redis).toBe(redis);
  });

  it.each(['/abc', '/-1', '/1.5', '/0/x', '/1x'])(
    'refuses the database %s as a usage error',
    async (path) => {
      const err = await refused(['--db', db, '--redis', `redis://:pw@127.0.0.1:6379${path}`]);
      expect(err).toMatchObject({
        code: 'E_USAGE',
        message: `--redis redis://:***@127.0.0.1:6379${path} names no Redis database: its path must be empty or a number, as in redis://host:6379/0.`,
      });
    },
  );
});

describe('serve options from the environment', () => {
  it('are named as the environment variable in what refuses them', async () => {
    const alone = await refused(['--db', ':memory:'], { SHIFTCTL_REDIS: 'redis://127.0.0.1:6379' });
    expect(alone).toMatchObject({ code: 'E_USAGE' });
    expect((alone as Error).message).toMatch(/^SHIFTCTL_REDIS links several instances/);
    expect((alone as Error).message).toContain('give --db a PostgreSQL URL');

    const both = await refused([], {
      SHIFTCTL_REDIS: 'redis://127.0.0.1:6379',
      SHIFTCTL_DB: 'offers.db',
    });
    expect((both as Error).message).toContain('give SHIFTCTL_DB a PostgreSQL URL');

    const flag = await refused(['--db', ':memory:', '--redis', 'redis://127.0.0.1:6379']);
    expect((flag as Error).message).toMatch(/^--redis links several instances/);

    for (const [env, value, message] of [
      ['SHIFTCTL_DB', 'mysql://root@127.0.0.1/explore', /^SHIFTCTL_DB mysql:/],
      ['SHIFTCTL_DB', 'postgres://h/x?schema=bad-name', / in SHIFTCTL_DB is not a plain/],
      ['SHIFTCTL_REDIS', 'http://127.0.0.1:6379', /^SHIFTCTL_REDIS http:.* is not a Redis URL/],
      ['SHIFTCTL_REDIS', 'redis://127.0.0.1:6379/abc', /^SHIFTCTL_REDIS redis:.* names no Redis/],
      ['SHIFTCTL_PUSH_WEBHOOK', 'ftp://x/', /^SHIFTCTL_PUSH_WEBHOOK must be an http/],
    ] as const) {
      const err = await refused(env === 'SHIFTCTL_DB' ? [] : ['--db', ':memory:'], {
        [env]: value,
      });
      expect([env, value, err]).toMatchObject([env, value, { code: 'E_USAGE' }]);
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe('serve options from an empty environment variable', () => {
  it('take it as unset: the default, or nothing', async () => {
    const env = {
      SHIFTCTL_PORT: '',
      SHIFTCTL_HOST: '',
      SHIFTCTL_DB: '',
      SHIFTCTL_DB_POOL: '',
      SHIFTCTL_REDIS: '',
      SHIFTCTL_TRUST_PROXY: '',
      SHIFTCTL_JOURNAL_MAX_ROWS: '',
      SHIFTCTL_JOURNAL_MAX_AGE: '',
      SHIFTCTL_URGENT_TTL: '',
      SHIFTCTL_PUSH_WEBHOOK: '',
      SHIFTCTL_PUSH_AFTER: '',
      SHIFTCTL_PUSH_SECRET: '',
    };
    const { flags, command } = await parsed([], env);
    expect(flags).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      db: './shiftctl.db',
      dbPool: 10,
      journalMaxRows: 100_000,
      journalMaxAge: 7 * 86_400,
      pushAfter: 10_000,
    });
    for (const key of ['redis', 'trustProxy', 'urgentTtl', 'pushWebhook', 'pushSecret']) {
      expect([key, flags[key as keyof ServeFlags]]).toEqual([key, undefined]);
    }
    expect(command.getOptionValueSource('db')).toBe('default');
  });

  it('still take a value that is set', async () => {
    const { flags } = await parsed([], { SHIFTCTL_DB: 'offers.db', SHIFTCTL_PORT: '18700' });
    expect(flags).toMatchObject({ db: 'offers.db', port: 18700 });
  });

  it('but an empty SHIFTCTL_SECRET is refused, never authentication off', async () => {
    const exit = await inProcessWithEnv({ SHIFTCTL_SECRET: '' }, 'serve', '--db', ':memory:');
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('SHIFTCTL_SECRET has an empty secret');
  });
});
