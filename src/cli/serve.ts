/**
 * `shiftctl serve` (declared in commands/serve.ts): flags in, `createServer` call, banner out,
 * clean shutdown on signals.
 */
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ShiftctlError } from '../errors.js';
import { DEMO_FIXTURES_PATH, type FixtureData, readFixtures } from '../fixtures.js';
import { redactUrl } from '../redact.js';
import { readScenario } from '../scenario.js';
import { createServer, redactDbUrl, type ShiftServer } from '../server/create-server.js';
import { createLogger, type LogFormat } from '../server/log.js';
import { selfSignedCertificate } from '../server/self-signed.js';
import { VERSION } from '../version.js';
import { type FaultFlags, faultSettings } from './fault-options.js';
import { whenNpxWrapperGone } from './npx-wrapper.js';
import { chalkFor, type Stream, stdoutClosed, wantsColor } from './output.js';

export interface ServeFlags extends FaultFlags {
  port: number;
  host: string;
  db: string;
  dbPool: number;
  redis?: string;
  /** Seconds, to the millisecond. */
  drain?: number;
  durability: 'normal' | 'full';
  fixtures: string | boolean;
  heartbeat: number;
  corsOrigin: string;
  logFormat: LogFormat;
  quiet?: boolean;
  offerTtl?: number;
  urgentTtl?: number;
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
  pushWebhook?: string;
  /** Milliseconds. */
  pushAfter: number;
  pushSecret?: string;
}

export async function serve(flags: ServeFlags): Promise<void> {
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
    pushWebhook: flags.pushWebhook,
    pushAfterMs: flags.pushAfter,
    pushSecret: flags.pushSecret || undefined,
    urgentTtlSeconds: flags.urgentTtl,
    faults: faultSettings(flags),
    log,
  });

  // Before anything is printed: whoever reads the banner may stop the server at once.
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) {
      log.warn(`${why} again: exiting without a clean shutdown`);
      log.flush();
      process.exit(1);
    }
    stopping = true;
    log.info(`${why}, shutting down`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { error: String(err) });
        log.flush();
        process.exit(1);
      },
    );
  };
  const signalled = (signal: NodeJS.Signals) => stop(`${signal} received`);
  process.on('SIGINT', signalled);
  process.on('SIGTERM', signalled);
  whenNpxWrapperGone(() => stop('the npx that started this server stopped'));

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
      app_url: `${server.url}/app/{emp_id}`,
      dashboard_url: `${server.url}/`,
      ...(tls?.caFile ? { ca_file: tls.caFile } : {}),
      db: redactDbUrl(flags.db),
      ...(server.cluster
        ? { cluster: server.cluster.engine, instance: server.cluster.instanceId }
        : {}),
      fixtures_loaded: server.fixturesLoaded,
      ...(flags.pushWebhook
        ? { push_webhook: redactUrl(flags.pushWebhook), push_after_ms: flags.pushAfter }
        : {}),
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
  return checkedTls(
    { file: flags.tlsCert, pem: await read(flags.tlsCert, 'certificate') },
    { file: flags.tlsKey, pem: await read(flags.tlsKey, 'key') },
  );
}

/**
 * The certificate and key of `--tls-cert` and `--tls-key` as the server will load them, checked
 * first: a file that is not PEM, or a key that is not the certificate's, is a usage error naming
 * the option and the file (OpenSSL's words, `error:0480006C:PEM routines::no start line`, named
 * neither, and failed the start as an unexpected error).
 */
export function checkedTls(
  cert: { file: string; pem: string },
  key: { file: string; pem: string },
): { cert: string; key: string } {
  const check = (option: string, file: string, what: string, context: SecureContextOptions) => {
    let reason: string | undefined;
    if (String(context.cert ?? context.key).trim() === '') reason = 'the file is empty';
    else {
      try {
        createSecureContext(context);
      } catch (err) {
        reason = opensslReason(err);
      }
    }
    if (reason) {
      throw new ShiftctlError('E_USAGE', `${option} ${file} is not a PEM ${what} (${reason})`);
    }
  };
  check('--tls-cert', cert.file, 'certificate', { cert: cert.pem });
  check('--tls-key', key.file, 'private key', { key: key.pem });
  try {
    createSecureContext({ cert: cert.pem, key: key.pem });
  } catch (err) {
    throw new ShiftctlError(
      'E_USAGE',
      `--tls-key ${key.file} is not the key of --tls-cert ${cert.file} (${opensslReason(err)})`,
    );
  }
  return { cert: cert.pem, key: key.pem };
}

/** `no start line` of OpenSSL's `error:0480006C:PEM routines::no start line`. */
function opensslReason(err: unknown): string {
  const e = err as { reason?: unknown; message?: unknown };
  if (typeof e.reason === 'string' && e.reason) return e.reason;
  const message = String(e.message ?? err);
  return message.split('::').pop()?.trim() || message;
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
      : 'existing data kept: fixtures load only into an empty database';
  const lines = [
    `${c.bold('shiftctl')} ${VERSION} is serving shift offers`,
    '',
    `  ${c.dim('wsUrl ')}  ${c.cyan(server.wsUrl)}`,
    `  ${c.dim('apiUrl')}  ${c.cyan(server.apiUrl)}`,
    `  ${c.dim('docs  ')}  ${server.url}/docs`,
    `  ${c.dim('admin ')}  ${server.url}/ ${c.dim('(the dashboard: watch and drive every offer, live)')}`,
    `  ${c.dim('app   ')}  ${server.url}/app/123 ${c.dim('(the app in a browser tab, as employee 123)')}`,
    `  ${c.dim('db    ')}  ${redactDbUrl(flags.db)} (${data})`,
    ...(flags.pushWebhook
      ? [
          `  ${c.dim('push  ')}  ${redactUrl(flags.pushWebhook)} ${c.dim(`(offers with no device, after ${flags.pushAfter / 1000} s; ${flags.pushSecret || flags.secret ? 'signed' : 'unsigned'})`)}`,
        ]
      : []),
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
