/** `shiftctl serve`: flags in, `createServer` call, banner out, clean shutdown on signals. */

import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { dirname } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ShiftctlError } from '../errors.js';
import { DEMO_FIXTURES_PATH, type FixtureData, readFixtures } from '../fixtures.js';
import { redactUrl } from '../redact.js';
import { readScenario } from '../scenario.js';
import { parseTrustedProxies } from '../server/client-address.js';
import { createServer, redactDbUrl, type ShiftServer } from '../server/create-server.js';
import { createLogger, type LogFormat } from '../server/log.js';
import { selfSignedCertificate } from '../server/self-signed.js';
import { VERSION } from '../version.js';
import { type FaultFlags, faultSettings, withFaultOptions } from './fault-options.js';
import { chalkFor, type Stream, stdoutClosed, wantsColor } from './output.js';
import { durationSeconds, durationSecondsOrOff, integerIn, oneOf } from './parse.js';
import { secretOption, secretsOf } from './secrets.js';

interface ServeFlags extends FaultFlags {
  port: number;
  host: string;
  db: string;
  dbPool: number;
  redis?: string;
  drain?: number;
  durability: 'normal' | 'full';
  fixtures: string | boolean;
  heartbeat: number;
  corsOrigin: string;
  logFormat: LogFormat;
  quiet?: boolean;
  offerTtl?: number;
  scenario?: string;
  /** Several while one is rotated out: tokens signed with any of them verify. */
  secret?: string[];
  insecure?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  maxConnections: number;
  maxConnectionsPerEmployee: number;
  rateLimit: boolean;
  answersPerEmployee: number;
  answersPerAddress: number;
  trustProxy?: string[];
  maxBody: number;
  maxFrame: number;
  journalMaxRows: number;
  journalMaxAge: number;
}

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
        'SQLite database file, :memory: for a throwaway run, or a PostgreSQL URL (postgres://user@host:5432/db[?schema=NAME]) that several instances share',
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
        'Redis between instances on one PostgreSQL --db (redis://host:6379): pushes, presence, kicks, faults and rate limits across them',
      ).env('SHIFTCTL_REDIS'),
    )
    .option(
      '--drain <seconds>',
      'on SIGTERM, say not ready (/readyz 503) this long before closing sockets, so a load balancer stops sending clients here first (default: 2 with other instances, 0 alone)',
      integerIn(0, 300),
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
    .option(
      '--scenario <file>',
      'play a scripted session, e.g. fixtures/scenarios/flaky-network.json',
    )
    .addHelpText(
      'after',
      `
Environment: SHIFTCTL_PORT, SHIFTCTL_HOST, SHIFTCTL_DB, SHIFTCTL_DB_POOL, SHIFTCTL_REDIS,
SHIFTCTL_SECRET (a comma list: the first signs, all verify), SHIFTCTL_TRUST_PROXY,
SHIFTCTL_JOURNAL_MAX_ROWS, SHIFTCTL_JOURNAL_MAX_AGE set the defaults of --port, --host, --db,
--db-pool, --redis, --secret, --trust-proxy, --journal-max-rows, --journal-max-age.

One server per SQLite file: a second serve on a file in use is refused. Several instances
share a PostgreSQL database, with Redis between them (--redis) or through PostgreSQL alone.

Examples:
  $ shiftctl serve
  $ shiftctl serve --port 3000 --db :memory: --no-fixtures
  $ shiftctl serve --host 0.0.0.0 --insecure --log-format json
  $ shiftctl serve --offer-ttl 15m --latency 200ms --drop-rate 0.1
  $ shiftctl serve --db :memory: --scenario fixtures/scenarios/night-cover-cascade.json
  $ shiftctl serve --port 8001 --db postgres://app@127.0.0.1:5432/shifts --redis redis://127.0.0.1:6379
  $ SHIFTCTL_SECRET=s3cret shiftctl serve --host 0.0.0.0 --tls-self-signed
  $ shiftctl serve --secret "$SECRET" --trust-proxy loopback   # behind nginx on this machine`,
    )
    .action(async (flags: ServeFlags, command: Command) => {
      await serve({ ...flags, secret: secretsOf(command) });
    });
  const serveCommand = program.commands.find((c) => c.name() === 'serve');
  if (serveCommand) withFaultOptions(serveCommand, 'fault: ');
}

async function serve(flags: ServeFlags): Promise<void> {
  // The banner and the log go to stdout while someone reads it. When the reader goes away
  // (`serve | head -1` in a script that only wanted the address), the server goes on.
  let stdoutOpen = true;
  const out: Stream = {
    isTTY: process.stdout.isTTY,
    write: (chunk: string) => stdoutOpen && process.stdout.write(chunk),
  };
  stdoutClosed.handler = () => {
    if (!stdoutOpen) return;
    stdoutOpen = false;
    process.stderr.write(
      'shiftctl: stdout was closed; the server goes on without logging there.\n',
    );
  };
  const log = createLogger({
    format: flags.logFormat,
    color: wantsColor(out),
    level: flags.quiet ? 'warn' : 'info',
    out,
  });
  // Whatever nobody expected still leaves a trace: logged, the log flushed, then exit 1.
  const fail =
    (what: string) =>
    (err: unknown): void => {
      log.error(`${what}; the server stops`, {
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      log.flush();
      process.exit(1);
    };
  process.on('uncaughtException', fail('unexpected error'));
  process.on('unhandledRejection', fail('unhandled promise rejection'));
  let fixtures: FixtureData | undefined;
  if (flags.fixtures !== false) {
    fixtures = await readFixtures(
      typeof flags.fixtures === 'string' ? flags.fixtures : DEMO_FIXTURES_PATH,
    );
  }
  const scenario = flags.scenario ? await readScenario(flags.scenario) : undefined;
  if (!flags.secret && !isLoopback(flags.host) && !flags.insecure) {
    throw new ShiftctlError(
      'E_USAGE',
      `Refusing to listen on ${flags.host} without authentication: anyone who can reach it could act as any employee. Set --secret (or SHIFTCTL_SECRET), or pass --insecure to accept the risk.`,
    );
  }
  const tls = await tlsFrom(flags);
  if (tls?.caFile) {
    // The certificate is made for this run only: its file goes when the server does, or when
    // it fails to start.
    const dir = dirname(tls.caFile);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const server = await createServer({
    scenario,
    secret: flags.secret,
    tls: tls && { cert: tls.cert, key: tls.key },
    maxConnections: flags.maxConnections,
    maxConnectionsPerEmployee: flags.maxConnectionsPerEmployee,
    answerRateLimits: flags.rateLimit
      ? {
          employee: { perSecond: flags.answersPerEmployee, burst: 2 * flags.answersPerEmployee },
          address: { perSecond: flags.answersPerAddress, burst: 2 * flags.answersPerAddress },
        }
      : false,
    trustProxy: flags.trustProxy,
    maxBodyBytes: flags.maxBody,
    maxFrameBytes: flags.maxFrame,
    port: flags.port,
    host: flags.host,
    db: flags.db,
    dbPool: flags.dbPool,
    redis: flags.redis,
    drainSeconds: flags.drain,
    durability: flags.durability,
    journalMaxRows: flags.journalMaxRows,
    journalMaxAgeSeconds: flags.journalMaxAge,
    fixtures,
    heartbeatSeconds: flags.heartbeat,
    corsOrigin: flags.corsOrigin,
    offerTtlSeconds: flags.offerTtl,
    faults: faultSettings(flags),
    log,
  });

  // Before anything is printed: whoever reads the banner may stop the server at once.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn(`${signal} again: exiting without a clean shutdown`);
      log.flush();
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal} received, shutting down`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { error: String(err) });
        log.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const lan = flags.host === '0.0.0.0' || flags.host === '::' ? lanAddresses() : [];
  if (flags.logFormat === 'json') {
    // Scripts wait for this line to learn the address, so it is printed even with --quiet.
    log.always({
      event: 'listening',
      version: VERSION,
      url: server.url,
      ws_url: server.wsUrl,
      api_url: server.apiUrl,
      docs_url: `${server.url}/docs`,
      ...(tls?.caFile ? { ca_file: tls.caFile } : {}),
      db: redactDbUrl(flags.db),
      ...(server.cluster
        ? { cluster: server.cluster.engine, instance: server.cluster.instanceId }
        : {}),
      fixtures_loaded: server.fixturesLoaded,
      lan: lan.map((ip) => ({
        ws_url: `ws://${ip}:${server.port}/ws`,
        api_url: `http://${ip}:${server.port}/api`,
      })),
    });
  } else {
    out.write(banner(server, flags, fixtures, lan, out));
  }
  if (flags.latency || flags.httpLatency || flags.dropRate) {
    log.warn('faults are on', faultSettings(flags));
  }
  if (!flags.secret) {
    log.warn(
      `AUTHENTICATION IS OFF: anyone who can reach ${server.url} can act as any employee and as an admin. Set --secret (or SHIFTCTL_SECRET) to require tokens.`,
    );
  }
  if (tls?.caFile) {
    log.warn(`self-signed certificate for testing: clients need --ca ${tls.caFile}`);
  }
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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The certificate and key to serve with, read from files or made up for local testing. */
async function tlsFrom(
  flags: ServeFlags,
): Promise<{ cert: string; key: string; caFile?: string } | undefined> {
  if (flags.tlsSelfSigned) {
    const made = await selfSignedCertificate(flags.host);
    return made;
  }
  if (!flags.tlsCert && !flags.tlsKey) return undefined;
  if (!flags.tlsCert || !flags.tlsKey) {
    throw new ShiftctlError('E_USAGE', '--tls-cert and --tls-key go together.');
  }
  const read = async (file: string, what: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new ShiftctlError(
        'E_USAGE',
        `Cannot read the TLS ${what} ${file}: ${(err as Error).message}`,
      );
    }
  };
  return { cert: await read(flags.tlsCert, 'certificate'), key: await read(flags.tlsKey, 'key') };
}

function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a?.address as string);
}

function banner(
  server: ShiftServer,
  flags: ServeFlags,
  fixtures: FixtureData | undefined,
  lan: string[],
  out: Stream,
): string {
  const c = chalkFor(out);
  const data = !fixtures
    ? 'empty database (--no-fixtures)'
    : server.fixturesLoaded
      ? `loaded ${fixtures.employees.length} employees and ${fixtures.shifts.length} shifts from fixtures`
      : 'existing data kept (fixtures load only into an empty database)';
  const lines = [
    `${c.bold('shiftctl')} ${VERSION} is serving shift offers`,
    '',
    `  ${c.dim('wsUrl ')}  ${c.cyan(server.wsUrl)}`,
    `  ${c.dim('apiUrl')}  ${c.cyan(server.apiUrl)}`,
    `  ${c.dim('docs  ')}  ${server.url}/docs`,
    `  ${c.dim('db    ')}  ${redactDbUrl(flags.db)} (${data})`,
    ...(server.cluster
      ? [
          `  ${c.dim('shared')}  ${server.cluster.engine === 'redis' && flags.redis ? redactUrl(flags.redis) : 'through PostgreSQL (LISTEN/NOTIFY)'}, instance ${server.cluster.instanceId}`,
        ]
      : []),
    '',
    "  Paste into the app's lib/services/shift_offer_helper.dart:",
    `    static const String wsUrl = '${server.wsUrl}';`,
    `    static const String apiUrl = '${server.apiUrl}';`,
  ];
  if (lan.length > 0) {
    lines.push('', '  From a phone on the same network:');
    for (const ip of lan) {
      lines.push(`    wsUrl ws://${ip}:${server.port}/ws   apiUrl http://${ip}:${server.port}/api`);
    }
  } else {
    lines.push(`  (Android emulator: use 10.0.2.2 in place of ${server.host}.)`);
  }
  const sendOffer = `"${server.apiUrl}/test/send_offer/123?shift_id=456"`;
  lines.push(
    '',
    ...(flags.secret
      ? // Authentication is on: the bare curl line would get 401. The secret is never printed.
        [
          '  Send a test offer (tokens are required: mint an admin one with your secret):',
          "    TOKEN=$(SHIFTCTL_SECRET='your secret' npx shiftctl token --admin)",
          `    curl -X POST -H "Authorization: Bearer $TOKEN" ${sendOffer}`,
        ]
      : [`  Send a test offer:  curl -X POST ${sendOffer}`]),
    '',
    c.dim('Press Ctrl-C to stop.'),
    '',
  );
  return `${lines.join('\n')}\n`;
}
