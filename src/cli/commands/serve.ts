/** `shiftctl serve`: the declaration; the server is started by ../serve.ts. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { checkDb, checkRedis, webhookUrl } from '../../serve-urls.js';
import { parseTrustedProxies } from '../../server/client-address.js';
import { withFaultOptions } from '../fault-options.js';
import {
  durationSeconds,
  durationSecondsOrOff,
  integerIn,
  oneOf,
  parseDuration,
  secondsUpTo,
} from '../parse.js';
import { secretOption, secretsOf } from '../secrets.js';
import type { ServeFlags } from '../serve.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the reference shift-offer server')
    // Options with an environment variable are built whole: commander reads a variable only
    // for an option that had it when it was added.
    .addOption(
      new Option('-p, --port <port>', 'TCP port (0 picks a free one)')
        .argParser(integerIn(0, 65535))
        .default(8000)
        .env('SHIFTCTL_PORT'),
    )
    .addOption(
      new Option('--host <host>', 'interface to listen on; 0.0.0.0 for phones on your network')
        .default('127.0.0.1')
        .env('SHIFTCTL_HOST'),
    )
    .addOption(
      new Option(
        '--db <path>',
        'SQLite database file, :memory: for a throwaway run, or a PostgreSQL URL (postgres:// or postgresql://user@host:5432/db[?schema=NAME]) that several instances share',
      )
        .default('./shiftctl.db')
        .env('SHIFTCTL_DB'),
    )
    .addOption(
      new Option('--db-pool <n>', 'connections to PostgreSQL (with a postgres:// --db)')
        .argParser(integerIn(1, 1000))
        .default(10)
        .env('SHIFTCTL_DB_POOL'),
    )
    .addOption(
      new Option(
        '--redis <url>',
        'Redis between instances on one PostgreSQL --db (redis://host:6379[/db]): pushes, presence, kicks, faults and rate limits across them',
      ).env('SHIFTCTL_REDIS'),
    )
    .option(
      '--drain <duration>',
      'on SIGTERM, say not ready (/readyz 503) this long before closing sockets, so a load balancer stops sending clients here first, e.g. 5s or 500ms, at most 5m (default: 2s with other instances, 0 alone)',
      secondsUpTo(300),
    )
    .option(
      '--durability <level>',
      'normal: survives a killed process; full: also a power cut (slower)',
      oneOf(['normal', 'full'] as const),
      'normal',
    )
    .option(
      '--fixtures <file>',
      'load this fixtures file into an empty database (default: demo data)',
    )
    .option('--no-fixtures', 'start with an empty database')
    .option(
      '--heartbeat <seconds>',
      'seconds between pings; 0 turns them off',
      integerIn(0, 3600),
      25,
    )
    .option(
      '--cors-origin <origin>',
      'Access-Control-Allow-Origin for HTTP answers (default: * without --secret, none with it)',
    )
    .addOption(
      secretOption(
        'turn authentication on: tokens must be signed with it (repeat it, or a comma list in SHIFTCTL_SECRET, to rotate: all verify)',
      ),
    )
    .option('--insecure', 'allow listening beyond loopback without --secret')
    .option('--tls-cert <file>', 'serve https:// and wss:// with this certificate (PEM)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--tls-self-signed', 'make a throwaway certificate for local testing')
    .option(
      '--max-connections <n>',
      'WebSocket connections allowed at once',
      integerIn(1, 1_000_000),
      25_000,
    )
    .option(
      '--max-connections-per-employee <n>',
      'WebSocket connections allowed per employee',
      integerIn(1, 10_000),
      10,
    )
    .option(
      '--answers-per-employee <n>',
      'answers allowed per employee per second (bursts of twice that)',
      integerIn(1, 1_000_000),
      10,
    )
    .option(
      '--answers-per-address <n>',
      'answers allowed per client address per second (bursts of twice that)',
      integerIn(1, 1_000_000),
      200,
    )
    .option('--no-rate-limit', 'do not rate-limit answers (for load tests)')
    .addOption(
      new Option(
        '--trust-proxy <addresses>',
        'take client addresses from X-Forwarded-For sent by these proxies (IPs, CIDRs or loopback, comma-separated)',
      )
        .argParser(proxyList)
        .env('SHIFTCTL_TRUST_PROXY'),
    )
    .option('--max-body <bytes>', 'largest HTTP request body', integerIn(256, 10_485_760), 16_384)
    .option(
      '--max-frame <bytes>',
      'largest WebSocket frame from a client',
      integerIn(64, 1_048_576),
      4096,
    )
    .addOption(
      new Option('--journal-max-rows <n>', 'journal lines kept at most; 0 keeps every line')
        .argParser(integerIn(0, 1_000_000_000))
        .default(100_000)
        .env('SHIFTCTL_JOURNAL_MAX_ROWS'),
    )
    .addOption(
      new Option(
        '--journal-max-age <duration>',
        'journal lines older than this are deleted, e.g. 7d; 0 or off keeps them',
      )
        .argParser(durationSecondsOrOff(10 * 365 * 86_400))
        .default(7 * 86_400, '7d')
        .env('SHIFTCTL_JOURNAL_MAX_AGE'),
    )
    .option(
      '--log-format <format>',
      'pretty or json (one object per line)',
      oneOf(['pretty', 'json'] as const),
      'pretty',
    )
    .option('-q, --quiet', 'log only warnings and errors')
    .option(
      '--offer-ttl <duration>',
      'deadline for offers made without one, e.g. 15m (default: none)',
      durationSeconds(30 * 86_400),
    )
    .addOption(
      new Option(
        '--urgent-ttl <duration>',
        'deadline for offers of urgent shifts made without one, e.g. 5m (default: --offer-ttl)',
      )
        .argParser(durationSeconds(30 * 86_400))
        .env('SHIFTCTL_URGENT_TTL'),
    )
    .addOption(
      new Option(
        '--push-webhook <url>',
        'push fallback: POST offers that found no connected device to this URL (FCM-shaped, once per push token; see docs/push.md)',
      ).env('SHIFTCTL_PUSH_WEBHOOK'),
    )
    .addOption(
      new Option(
        '--push-after <duration>',
        'how long an offer waits for a device before its push, e.g. 10s or 500ms',
      )
        .argParser(pushAfter)
        .default(10_000, '10s')
        .env('SHIFTCTL_PUSH_AFTER'),
    )
    .addOption(
      new Option(
        '--push-secret <secret>',
        'sign webhook pushes with this (HMAC-SHA256) rather than the first --secret',
      ).env('SHIFTCTL_PUSH_SECRET'),
    )
    .option(
      '--scenario <file>',
      'play a scripted session, e.g. fixtures/scenarios/flaky-network.json',
    )
    .addHelpText(
      'after',
      `
Environment: SHIFTCTL_PORT, SHIFTCTL_HOST, SHIFTCTL_DB, SHIFTCTL_DB_POOL, SHIFTCTL_REDIS,
SHIFTCTL_SECRET (a comma list: the first signs, all verify), SHIFTCTL_TRUST_PROXY,
SHIFTCTL_JOURNAL_MAX_ROWS, SHIFTCTL_JOURNAL_MAX_AGE, SHIFTCTL_URGENT_TTL, SHIFTCTL_PUSH_WEBHOOK,
SHIFTCTL_PUSH_AFTER, SHIFTCTL_PUSH_SECRET set the defaults of --port, --host, --db, --db-pool,
--redis, --secret, --trust-proxy, --journal-max-rows, --journal-max-age, --urgent-ttl,
--push-webhook, --push-after, --push-secret. A variable set but empty counts as unset (an empty
SHIFTCTL_SECRET is refused).

One server per SQLite file: a second serve on a file in use is refused. Several instances
share a PostgreSQL database, with Redis between them (--redis) or through PostgreSQL alone.

Examples:
  $ shiftctl serve
  $ shiftctl serve --port 3000 --db :memory: --no-fixtures
  $ shiftctl serve --host 0.0.0.0 --insecure --log-format json
  $ shiftctl serve --offer-ttl 15m --latency 200ms --drop-rate 0.1
  $ shiftctl serve --offer-ttl 1h --urgent-ttl 10m
  $ shiftctl serve --db :memory: --scenario fixtures/scenarios/night-cover-cascade.json
  $ shiftctl serve --port 8001 --db postgres://app@127.0.0.1:5432/shifts --redis redis://127.0.0.1:6379
  $ SHIFTCTL_SECRET=s3cret shiftctl serve --host 0.0.0.0 --tls-self-signed
  $ shiftctl serve --secret "$SECRET" --trust-proxy loopback   # behind nginx on this machine
  $ shiftctl serve --push-webhook http://127.0.0.1:8099/ --push-after 5s   # with shiftctl push-sink`,
    )
    // The URLs are checked before anything is opened or loaded, named as the user gave them.
    .hook('preAction', (command) => checkUrls(command))
    .action(async (flags: ServeFlags, command: Command) => {
      const { serve } = await import('../serve.js');
      await serve({ ...flags, secret: secretsOf(command) });
    });
  const serveCommand = program.commands.find((c) => c.name() === 'serve');
  if (serveCommand) withFaultOptions(serveCommand, 'fault: ');
  program.hook('preSubcommand', (_program, command) => {
    if (command === serveCommand) ignoreEmptyEnv(command, ['SHIFTCTL_SECRET']);
  });
}

/**
 * An environment variable that is set but empty (`SHIFTCTL_DB=`) counts as unset: the option
 * keeps its default, where commander would take '' as the value. Called before `command`
 * reads the environment. Not for the variables in `except`: an empty SHIFTCTL_SECRET is
 * refused (secretsOf), never taken as authentication turned off.
 */
function ignoreEmptyEnv(command: Command, except: string[]): void {
  for (const option of command.options) {
    const name = option.envVar;
    if (name && !except.includes(name) && process.env[name] === '') option.envVar = undefined;
  }
}

/** `--push-after`: a bare number is seconds, as for the other durations; 0 to 1 h. */
function pushAfter(value: string): number {
  const ms = parseDuration(value);
  if (ms > 3_600_000) throw new InvalidArgumentError('Expected a duration of at most 1h.');
  return ms;
}

/** `--trust-proxy`, repeatable, each a comma list: checked here so a typo is a usage error. */
function proxyList(value: string, previous: string[] | undefined): string[] {
  const entries = value.split(',').map((entry) => entry.trim());
  try {
    parseTrustedProxies(entries);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return [...(previous ?? []), ...entries];
}

/**
 * How the user gave option `key` of `command`, for messages: its environment variable when
 * the value came from there (SHIFTCTL_REDIS), else its flag (--redis).
 */
function givenAs(command: Command, key: string): string {
  const option = command.options.find((o) => o.attributeName() === key);
  if (option?.envVar && command.getOptionValueSource(key) === 'env') return option.envVar;
  return option?.long ?? `--${key}`;
}

/** `--db`, `--redis` and `--push-webhook`, checked while parsing: a mistake is a usage error. */
function checkUrls(command: Command): void {
  const flags = command.opts<ServeFlags>();
  checkDb(flags.db, givenAs(command, 'db'));
  if (flags.redis !== undefined) {
    checkRedis(flags.redis, flags.db, {
      redis: givenAs(command, 'redis'),
      db: givenAs(command, 'db'),
    });
  }
  if (flags.pushWebhook) webhookUrl(flags.pushWebhook, givenAs(command, 'pushWebhook'));
}
