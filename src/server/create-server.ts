/**
 * Assembly: store + fan-out + rules + HTTP + WebSocket on one `node:http` server. `serve` and
 * every test use this one function.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createAuthenticator } from '../auth/policy.js';
import { openCluster } from '../cluster/open.js';
import type { Cluster } from '../cluster/types.js';
import { isShiftctlError, ShiftctlError } from '../errors.js';
import type { FixtureData } from '../fixtures.js';
import { type Clock, type EventSink, type OfferEvent, systemClock } from '../offers/ports.js';
import { createPushFallback, type PushFallback, type PushRetry } from '../offers/push-fallback.js';
import { failureStreak } from '../offers/retry.js';
import { createOfferService, type OfferService } from '../offers/service.js';
import { createWebhookSender } from '../push/webhook.js';
import { redactUrl } from '../redact.js';
import type { Scenario } from '../scenario.js';
import { checkDb, isPostgresUrl, webhookUrl } from '../serve-urls.js';
import type { PostgresStore } from '../store/postgres.js';
import { createSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { VERSION } from '../version.js';
import { within } from '../within.js';
import { type AdminFeed, createAdminFeed } from './admin-events.js';
import { trackAnswers } from './answers.js';
import { closingErrorAnswer, rawErrorResponse } from './api-router.js';
import { createClientAddress } from './client-address.js';
import { contractDocuments } from './docs.js';
import { failureAnswers } from './failures.js';
import { createFanout, type ServerFanout } from './fanout.js';
import { createFaults, type FaultSettingsInput, type Faults } from './faults.js';
import { createHttpApp } from './http.js';
import { createLocalHub, type LocalHub } from './hub.js';
import { startJournalTrimmer } from './journal-trimmer.js';
import { type Logger, silentLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { createRateLimiter, type RateLimit } from './rate-limit.js';
import { buildRoutes } from './routes.js';
import { playScenario } from './scenario-player.js';
import { attachWebSocket } from './websocket.js';

/** How long requests in flight may take to finish once shutdown starts. */
const SHUTDOWN_GRACE_MS = 5000;
/** How long a TLS handshake may take before its socket is closed. */
const TLS_HANDSHAKE_TIMEOUT_MS = 15_000;
/** While closing: how often kept-alive sockets that turned idle are closed. */
const SWEEP_MS = 20;
/** How long `/readyz` waits for the database before saying it is not ready. */
const READY_TIMEOUT_MS = 1000;
/**
 * Journal bounds for a server left running: 100 000 lines (about 10 MB) hold a busy day of a
 * floor's traffic, and a week is enough to look into last week's complaint.
 */
const JOURNAL_MAX_ROWS = 100_000;
const JOURNAL_MAX_AGE_SECONDS = 7 * 86_400;

export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /**
   * SQLite file, or `:memory:`; or a PostgreSQL URL (`postgres://user@host:5432/db`, with
   * `?schema=NAME` to keep the tables in a schema of their own), which several instances may
   * share. Default `:memory:`.
   */
  db?: string;
  /** Connections to PostgreSQL (with a `postgres://` db). Default 10. */
  dbPool?: number;
  /** `normal` (default) survives a killed process; `full` also survives a power cut. */
  durability?: 'normal' | 'full';
  /** A store to use in place of opening `db`; the server closes it. */
  store?: Store;
  /**
   * What this instance shares with the others (see src/cluster/): the server starts it and
   * closes it. Without one, this is the only instance.
   */
  cluster?: Cluster;
  /**
   * Redis between instances (`redis://host:6379`), with a PostgreSQL `db`. Without it, several
   * instances on one PostgreSQL database still work, through PostgreSQL alone (LISTEN/NOTIFY).
   */
  redis?: string;
  /**
   * Seconds between saying not ready (`/readyz` 503) and closing sockets on `close()`, so that a
   * load balancer takes the instance out of rotation before its clients reconnect. Default 2
   * with a cluster, 0 alone.
   */
  drainSeconds?: number;
  /** Journal lines kept at most; 0 keeps every line. Default 100 000. */
  journalMaxRows?: number;
  /** Journal lines older than this go; 0 keeps them. Default 7 days. */
  journalMaxAgeSeconds?: number;
  /** Pause between rounds of journal trimming. Default 5 s. */
  journalTrimIntervalMs?: number;
  /** Data to load when the database holds no shift yet. */
  fixtures?: FixtureData;
  /** Default deadline, in seconds, for offers made without one. Default: none. */
  offerTtlSeconds?: number;
  /** Default deadline, in seconds, for offers of urgent shifts made without one. Default: `offerTtlSeconds`. */
  urgentTtlSeconds?: number;
  /** Seconds between heartbeats (fractions allowed); 0 turns them off. Default 25. */
  heartbeatSeconds?: number;
  /**
   * `Access-Control-Allow-Origin`. Default `*` without a secret; with one, no cross-origin
   * access unless an origin is given.
   */
  corsOrigin?: string;
  /**
   * Turns authentication on: tokens must be signed with this secret (see `shiftctl token`), or
   * with any of these, so that a secret can be rotated out while its tokens still verify.
   */
  secret?: string | readonly string[];
  /** Serve HTTPS and WSS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Answers allowed per employee and per address, each `{ perSecond, burst }`; `false` turns
   * the limits off. Default 10/s (burst 20) per employee, 200/s (burst 400) per address.
   */
  answerRateLimits?: { employee: RateLimit; address: RateLimit } | false;
  /**
   * Proxies whose `X-Forwarded-For` names the client (IP addresses, CIDR ranges, `loopback`):
   * rate limits and logs then use the address they forwarded for. Default: none, the peer's.
   */
  trustProxy?: readonly string[];
  /** Open WebSocket connections allowed at once. Default 25 000. */
  maxConnections?: number;
  /** Open WebSocket connections allowed per employee. Default 10. */
  maxConnectionsPerEmployee?: number;
  /** How long a client may take to send its request headers (and a WebSocket handshake). Default 10 s. */
  headersTimeoutMs?: number;
  /** How long a client may take to send a whole request, body included. Default 30 s. */
  requestTimeoutMs?: number;
  /** Largest HTTP body, bytes. Default 16 KiB. */
  maxBodyBytes?: number;
  /** Largest WebSocket frame from a client, bytes. Default 4 KiB. */
  maxFrameBytes?: number;
  /** Bytes queued to one socket before it is dropped as a slow consumer. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** A scripted session to play from the start (see `serve --scenario`). */
  scenario?: Scenario;
  /** Faults to inject from the start (see `POST /api/admin/faults`). */
  faults?: Partial<FaultSettingsInput>;
  /**
   * Push fallback (docs/push.md): an offer that finds no connected device and is still waiting
   * after `pushAfterMs` is POSTed to this URL, once per push token of its employee.
   */
  pushWebhook?: string;
  /** How long an offer waits for a device before it is pushed. Default 10 s. */
  pushAfterMs?: number;
  /** Signs webhook pushes (HMAC-SHA256). Default: the first of `secret`, if any. */
  pushSecret?: string;
  /** How long one POST to the webhook may take. Default 10 s. */
  pushTimeoutMs?: number;
  /** Attempts and backoff of a push the webhook failed. Default 6 attempts, 1 s doubling to 60 s. */
  pushRetry?: PushRetry;
  /** Random numbers for the drop rate; tests pass a predictable one. */
  random?: () => number;
  clock?: Clock;
  log?: Logger;
}

export interface ShiftServer {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** The app's `wsUrl`, e.g. `ws://127.0.0.1:8000/ws`. */
  wsUrl: string;
  /** The app's `apiUrl`, e.g. `http://127.0.0.1:8000/api`. */
  apiUrl: string;
  port: number;
  host: string;
  /** Whether fixtures were loaded into an empty database at start. */
  fixturesLoaded: boolean;
  /** The cluster this instance is part of, if any. */
  cluster: { engine: Cluster['engine']; instanceId: string } | undefined;
  /** Closes sockets with 1001, stops listening and closes the database. Safe to call twice. */
  close(): Promise<void>;
}

/** `db` with any password replaced, for the banner and logs. */
export function redactDbUrl(db: string): string {
  return isPostgresUrl(db) ? redactUrl(db) : db;
}

/** The store `db` names: PostgreSQL for a `postgres://` URL, else SQLite. */
async function openStore(options: ServerOptions, log: Logger): Promise<Store> {
  if (options.db !== undefined) checkDb(options.db);
  if (isPostgresUrl(options.db)) {
    const url = new URL(options.db);
    // `schema` is ours, not a connection parameter: taken off before the driver sees the URL.
    const schema = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    // Loaded only when asked for: a SQLite server never loads the PostgreSQL driver.
    const { createPostgresStore } = await import('../store/postgres.js');
    return createPostgresStore({
      url: url.href,
      schema,
      poolSize: options.dbPool,
      log: (message, fields) => log.warn(message, fields),
    });
  }
  return createSqliteStore({
    path: options.db ?? ':memory:',
    durability: options.durability,
    warn: (message, fields) => log.warn(message, fields),
  });
}

async function loadFixtures(store: Store, data: FixtureData, at: number): Promise<boolean> {
  // Several instances on one PostgreSQL database may start together: exactly one loads them.
  if ('seedIfEmpty' in store) {
    const shifts = data.shifts.map(({ offer_to: offerTo, ...shift }) => ({ ...shift, offerTo }));
    return (store as PostgresStore).seedIfEmpty({ employees: data.employees, shifts }, at);
  }
  if (!(await store.isEmpty())) return false;
  await store.upsertEmployees(data.employees);
  for (const { offer_to: offerTo, ...shift } of data.shifts) {
    await store.createShift(shift, at);
    if (offerTo?.length) await store.addOffers(shift.id, offerTo, at, {});
  }
  return true;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a shift-offer server and resolves once it is listening and its database is ready.
 * A start that fails (the port taken, the database refusing writes) rejects with nothing left
 * listening.
 */
export async function createServer(options: ServerOptions = {}): Promise<ShiftServer> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const clientAddress = createClientAddress(options.trustProxy);
  const store = options.store ?? (await openStore(options, log));
  /** Closed with the store when the start fails. */
  let opened: Cluster | undefined;

  try {
    const cluster =
      options.cluster ??
      (await openCluster({
        db: options.db,
        redis: options.redis,
        warn: (message, fields) => log.warn(message, fields),
      }));
    opened = cluster;
    const faults = createFaults(options.faults ?? {}, options.random);
    const metrics = createMetrics(() => ws.size, {
      store: () => store.checkWritable(),
      cluster: cluster && (() => cluster.ping()),
    });
    const hub = createLocalHub({
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      faults,
      onSlowConsumer: (empId) => log.warn('dropping a slow consumer', { emp_id: empId }),
    });
    const fanout = createFanout({
      hub,
      cluster,
      faults,
      log,
      onPush: (empIds, message, outcome) => {
        metrics.pushed(outcome, empIds.length);
        service.record({
          at: clock.now(),
          kind: 'push',
          empId: null,
          empIds,
          shiftId: 'shift_id' in message ? message.shift_id : null,
          name: message.type,
          outcome,
          detail: 'status' in message ? { status: message.status } : null,
        });
      },
      onDelivered: (empIds, message) => {
        if (message.type === 'shift_offer') service.markDelivered(message.shift_id, empIds);
      },
      onDeadline: (at) => service.deadlineAt(at),
      onClusterLatency: (seconds) => metrics.clusterPush(seconds),
    });
    // Every event of the rules goes to the log and is counted for /metrics.
    const events = {
      event(e: OfferEvent) {
        metrics.observe(e);
        log.event(e);
      },
      warn: (message: string, fields?: Record<string, unknown>) => log.warn(message, fields),
    };
    const pushFallback = openPushFallback(options, { store, clock, events, leading: !cluster });
    const service = createOfferService({
      store,
      fanout,
      clock,
      events,
      pushFallback,
      defaultTtlSeconds: options.offerTtlSeconds,
      urgentTtlSeconds: options.urgentTtlSeconds,
      // The dashboard's stream hears of every journal line (a size check when none is open).
      journalRecorded: (entry) => feed.recorded(entry.empIds ? entry.empIds.length : 1),
      // With several instances, the leader of the timers hears of every deadline written.
      deadlineWritten:
        cluster &&
        ((at) => {
          cluster.broadcast({ kind: 'deadline', at }).catch((err: unknown) => {
            log.warn('could not tell the timer leader of a deadline; it finds it within a second', {
              error: err instanceof Error ? err.message : String(err),
            });
          });
        }),
    });
    const feed: AdminFeed = createAdminFeed({
      readJournal: (afterId, limit) => service.journal({ after_id: afterId, limit }),
      log,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      // Other instances write to the shared journal too: open streams look once a second.
      sharedJournalMs: cluster ? 1000 : undefined,
      instanceId: cluster?.instanceId,
    });
    if (cluster) await joinCluster(cluster, { fanout, faults, hub, log });
    const auth = createAuthenticator(options.secret, clock.now);
    // Slow or stalled handshakes and requests are cut off rather than held open.
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    const timeouts = {
      headersTimeout,
      requestTimeout: Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout),
      keepAliveTimeout: 5_000,
      // How often stalled connections are looked for: a fraction of the header timeout.
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeout / 4))),
    };
    // A client may pipeline requests and close its side at once: answer them all before
    // closing ours. TLS sockets need `allowHalfOpen` for that; Node's HTTP layer otherwise ends
    // the socket when the client's side ends, before answers still being made (its one switch,
    // `httpAllowHalfOpen`, is undocumented; test/hostile-sockets.test.ts pins what it does).
    const server: Server = options.tls
      ? createHttpsServer({
          ...options.tls,
          ...timeouts,
          allowHalfOpen: true,
          // A client that stalls or leaves mid-handshake holds its socket this long (Node: 120 s).
          handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
        })
      : createHttpServer(timeouts);
    (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    const answers = trackAnswers(server);
    // One for the API, the pages and the upgrades: an outage is told once for all of them.
    const failures = failureAnswers(log);
    const ws = attachWebSocket(server, {
      fanout,
      service,
      log,
      failures,
      faults,
      clock,
      heartbeatMs: (options.heartbeatSeconds ?? 25) * 1000,
      maxFrameBytes: options.maxFrameBytes ?? 4 * 1024,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      auth,
      clientAddress,
      maxConnections: options.maxConnections ?? 25_000,
      maxConnectionsPerEmployee: options.maxConnectionsPerEmployee ?? 10,
      answers,
      onPresence: (empId) => feed.emit({ event: 'presence', data: { emp_id: empId } }),
    });
    const limits =
      options.answerRateLimits === false
        ? undefined
        : (options.answerRateLimits ?? {
            employee: { perSecond: 10, burst: 20 },
            address: { perSecond: 200, burst: 400 },
          });
    // Requests refused at the gate (authentication, authorization, rate limit) are counted,
    // not journalled: anyone can send them, as fast as they like.
    const refused = new Map<string, number>();
    let ready = false;
    /** Scenarios started through the API, stopped on close. */
    const scenarios = new Set<() => void>();
    const play = (scenario: Scenario): void => {
      const stop = playScenario(scenario, {
        service,
        faults,
        fanout,
        clock,
        log,
        onStep: (step, did) =>
          feed.emit({ event: 'scenario', data: { name: scenario.name, step, did } }),
      });
      scenarios.add(stop);
    };
    const routes = buildRoutes(service, {
      startedAt: Date.now(),
      sockets: () => ws.size,
      faults,
      fanout,
      clock,
      refused: () => Object.fromEntries([...refused].sort(([a], [b]) => a.localeCompare(b))),
      playScenario: play,
      async ready() {
        if (!ready) {
          throw new ShiftctlError('E_UNAVAILABLE', 'Not ready: starting or shutting down.');
        }
        await within(
          store.checkWritable(),
          READY_TIMEOUT_MS,
          () =>
            new ShiftctlError(
              'E_DATABASE_BUSY',
              `The database did not take a write within ${READY_TIMEOUT_MS} ms.`,
            ),
        );
        if (cluster) {
          await within(
            cluster.ping().catch((err: unknown) => {
              throw new ShiftctlError(
                'E_UNAVAILABLE',
                `Cannot reach ${cluster.engine} between instances: ${(err as Error).message}`,
              );
            }),
            READY_TIMEOUT_MS,
            () =>
              new ShiftctlError(
                'E_UNAVAILABLE',
                `${cluster.engine} between instances did not answer within ${READY_TIMEOUT_MS} ms.`,
              ),
          );
        }
      },
    });
    const app = createHttpApp({
      routes,
      failures,
      metrics: () => metrics.render(),
      faults,
      // Spelled out: an object spread costs a microsecond or two on this, every request's path.
      journal: (entry) =>
        service.record({
          at: clock.now(),
          kind: entry.kind,
          empId: entry.empId,
          shiftId: entry.shiftId,
          name: entry.name,
          outcome: entry.outcome,
          detail: entry.detail,
        }),
      refused: (code) => refused.set(code, (refused.get(code) ?? 0) + 1),
      ...contractDocuments(),
      version: VERSION,
      log,
      corsOrigin: options.corsOrigin ?? (auth.enabled ? undefined : '*'),
      auth,
      tls: options.tls !== undefined,
      // Shared by every instance where the cluster keeps buckets (Redis); else this instance's.
      answerLimits: limits && {
        employee:
          cluster?.rateLimiter?.(limits.employee) ?? createRateLimiter(limits.employee, clock.now),
        address:
          cluster?.rateLimiter?.(limits.address) ?? createRateLimiter(limits.address, clock.now),
      },
      bodyLimit: options.maxBodyBytes ?? 16 * 1024,
      clientAddress,
      adminFeed: feed,
    });
    server.on('request', app);
    // Every TCP socket, whatever became of it: past the shutdown's grace period, those still
    // open are destroyed, HTTP or not (Node's closeAllConnections knows HTTP connections only).
    const sockets = new Set<Socket>();
    // TLS: connections still in their handshake, by client address. One whose client gave up
    // (an untrusted certificate) is half-open (`allowHalfOpen`) and raises nothing until the
    // handshake timeout; they carry no request, so shutdown closes them at once.
    const handshaking = new Map<string, Socket>();
    const peer = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
    server.on('connection', (socket: Socket) => {
      // A socket handed back after an h2c request comes through here again, once per request.
      if (sockets.has(socket)) return;
      sockets.add(socket);
      const key = peer(socket);
      if (options.tls) handshaking.set(key, socket);
      socket.once('close', () => {
        sockets.delete(socket);
        if (handshaking.get(key) === socket) handshaking.delete(key);
      });
    });
    if (options.tls) {
      server.on('secureConnection', (socket: Socket) => handshaking.delete(peer(socket)));
    }
    // Requests Node's parser refuses (or that stall) get a JSON error and a closed socket; a
    // TLS socket that fails in its handshake never carried HTTP, and is only closed.
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (handshaking.has(peer(socket as Socket))) {
        socket.destroy();
        return;
      }
      // A body that stalls: its request was handed on, and its answer not begun. It gets the
      // 408 through that answer, which closes the connection once written.
      const stalled =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable
          ? answers.unbegun(socket)
          : undefined;
      if (stalled) {
        const { status, headers, text } = closingErrorAnswer(
          'E_REQUEST_TIMEOUT',
          'The request body did not arrive in time.',
        );
        stalled.writeHead(status, headers);
        stalled.end(text);
        return;
      }
      // Nothing can be written into the middle of answers already on their way (pipelining).
      if (!socket.writable || answers.busy(socket)) {
        socket.destroy();
        return;
      }
      socket.end(
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? rawErrorResponse('E_REQUEST_TIMEOUT', 'The request did not arrive in time.')
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? rawErrorResponse(
                'E_HEADERS_TOO_LARGE',
                'The request line and headers are larger than the limit of 16 KiB.',
              )
            : rawErrorResponse('E_BAD_REQUEST', 'The request is not valid HTTP/1.1.'),
      );
    });

    try {
      await listen(server, options.port ?? 0, host);
    } catch (err) {
      await ws.close();
      throw err;
    }
    // After listen, so a start that fails (say, the port is taken) leaves the database as it was.
    // The SQLite store answers synchronously, so no request is served before this completes.
    let fixturesLoaded = false;
    try {
      if (options.fixtures) {
        fixturesLoaded = await loadFixtures(store, options.fixtures, clock.now());
      }
      await service.start();
      pushFallback?.start();
    } catch (err) {
      // A server that cannot write its database must not stay up: /healthz would say ok over
      // an API that fails every call.
      service.stop();
      await pushFallback?.stop();
      await ws.close();
      await stopListening(server);
      throw isShiftctlError(err)
        ? err
        : new ShiftctlError(
            'E_DATABASE',
            `Cannot start: writing the database at ${options.db ?? ':memory:'} failed: ${(err as Error).message}`,
          );
    }
    const stopTrimming = startJournalTrimmer({
      store,
      clock,
      log,
      maxRows: options.journalMaxRows ?? JOURNAL_MAX_ROWS,
      maxAgeSeconds: options.journalMaxAgeSeconds ?? JOURNAL_MAX_AGE_SECONDS,
      intervalMs: options.journalTrimIntervalMs ?? 5000,
    });
    const stopLeading = cluster ? leadTimers(cluster, [service, pushFallback], log) : undefined;
    ready = true;
    if (options.scenario) play(options.scenario);
    const port = (server.address() as AddressInfo).port;
    const base = `${hostForUrl(host)}:${port}`;
    const secure = options.tls !== undefined;

    let closed: Promise<void> | undefined;
    return {
      url: `${secure ? 'https' : 'http'}://${base}`,
      wsUrl: `${secure ? 'wss' : 'ws'}://${base}/ws`,
      apiUrl: `${secure ? 'https' : 'http'}://${base}/api`,
      port,
      host,
      fixturesLoaded,
      cluster: cluster && { engine: cluster.engine, instanceId: cluster.instanceId },
      close() {
        closed ??= (async () => {
          ready = false;
          const drainMs = (options.drainSeconds ?? (cluster ? 2 : 0)) * 1000;
          if (drainMs > 0) {
            log.info(`draining: not ready for ${drainMs / 1000} s before closing connections`);
            await new Promise((resolve) => setTimeout(resolve, drainMs));
          }
          for (const stop of scenarios) stop();
          stopTrimming();
          stopLeading?.();
          service.stop();
          // Attempts in flight are cut short and recorded before the store closes.
          const pushesStopped = pushFallback?.stop();
          const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          // Dashboards' streams end now: their clients reconnect to the next server.
          feed.close();
          await ws.close();
          // Requests in flight get a grace period to finish; idle keep-alive sockets go now, and
          // those whose request finishes meanwhile as soon as they are idle: Node answers them
          // keep-alive, and one left open would hold the close for its keep-alive timeout (5 s),
          // or carry a browser's next request (a dashboard's reconnect) to a closing server.
          server.closeIdleConnections();
          for (const socket of handshaking.values()) socket.destroy();
          const sweep = setInterval(() => server.closeIdleConnections(), SWEEP_MS);
          const grace = setTimeout(() => {
            server.closeAllConnections();
            for (const socket of sockets) socket.destroy();
          }, SHUTDOWN_GRACE_MS);
          await stopped;
          clearInterval(sweep);
          clearTimeout(grace);
          await pushesStopped;
          // Leaving the cluster frees the timer lease and this instance's presence at once.
          await cluster?.close().catch((err: unknown) => {
            log.warn('could not leave the cluster cleanly; its traces expire by themselves', {
              error: err instanceof Error ? err.message : String(err),
            });
          });
          await store.close();
          log.flush();
        })();
        return closed;
      },
    };
  } catch (err) {
    await opened?.close().catch(() => undefined);
    await store.close();
    throw err;
  }
}

/**
 * Starts this instance's part in the cluster: messages from the other instances go to the
 * fan-out, fault settings made anywhere apply everywhere (those in force are taken at start),
 * and after a break in the link the local sockets are closed so that their clients reconnect
 * and fetch what they missed meanwhile.
 */
async function joinCluster(
  cluster: Cluster,
  deps: { fanout: ServerFanout; faults: Faults; hub: LocalHub; log: Logger },
): Promise<void> {
  const { fanout, faults, hub, log } = deps;
  await cluster.start({
    message: (message) => fanout.receive(message),
    resumed() {
      const closed = hub.closeAll(1012, 'reconnect: messages may have been missed');
      log.event({ event: 'cluster_resumed', engine: cluster.engine, reconnecting: closed });
    },
    warn: (message, fields) => log.warn(message, fields),
  });
  const shared = await cluster.loadFaults();
  if (shared) faults.apply(shared);
  faults.onChange = (settings) => {
    Promise.all([
      cluster.saveFaults(settings),
      cluster.broadcast({ kind: 'faults', settings }),
    ]).catch((err: unknown) => {
      log.warn('could not share fault settings with the other instances', {
        error: err instanceof Error ? err.message : String(err),
      });
    });
  };
}

/**
 * Asks for the timer lease every renewal period: the instance holding it runs deadlines and
 * cascade steps; one that cannot reach the cluster stops leading (another may take over, and
 * the store's claims close each offer once even if two lead for a moment).
 */
function leadTimers(
  cluster: Cluster,
  leaders: ReadonlyArray<Pick<OfferService, 'lead'> | undefined>,
  log: Logger,
): () => void {
  const lead = (now: boolean): void => {
    for (const leader of leaders) leader?.lead(now);
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const failures = failureStreak('renewing the timer lease', {
    warn: (message, fields) => log.warn(message, fields),
    recovered: (fields) => log.event({ event: 'recovered', ...fields }),
  });
  const tick = (): void => {
    cluster
      .lead()
      .then(
        (leading) => {
          failures.succeeded();
          if (!stopped) lead(leading);
        },
        (err: unknown) => {
          failures.failed(err);
          if (!stopped) lead(false);
        },
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, cluster.leaseRenewMs);
      });
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** The push fallback, when a webhook is set (nothing of it exists otherwise). */
function openPushFallback(
  options: ServerOptions,
  deps: { store: Store; clock: Clock; events: EventSink; leading: boolean },
): PushFallback | undefined {
  if (options.pushWebhook === undefined) return undefined;
  const url = webhookUrl(options.pushWebhook);
  const timeoutMs = options.pushTimeoutMs ?? 10_000;
  const secret =
    options.pushSecret ??
    (typeof options.secret === 'string' ? options.secret : options.secret?.[0]);
  return createPushFallback({
    store: deps.store,
    clock: deps.clock,
    events: deps.events,
    journal: (entry) => deps.store.journal(entry),
    send: createWebhookSender({ url, secret: secret || undefined, timeoutMs, now: deps.clock.now }),
    afterMs: options.pushAfterMs ?? 10_000,
    retry: options.pushRetry,
    // A claim outlives any attempt, so that no other instance takes a push still being sent.
    leaseMs: 2 * timeoutMs + 5000,
    leading: deps.leading,
  });
}

/** Stops listening and drops every connection at once (no request has been answered yet). */
function stopListening(server: Server): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return stopped;
}

function listen(server: Server, port: number, host: string) {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = `${host}:${port}`;
      const message =
        err.code === 'EADDRINUSE'
          ? `Port ${port} on ${host} is already in use; stop the other server or choose another port with --port.`
          : err.code === 'EACCES'
            ? `Not allowed to listen on ${where}; ports below 1024 need privileges, choose another with --port.`
            : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
              ? `Cannot listen on ${host}: no such address on this machine.`
              : `Cannot listen on ${where}: ${err.message}`;
      reject(new ShiftctlError('E_LISTEN', message));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
