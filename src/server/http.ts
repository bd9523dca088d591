/** HTTP: the lean API router for the route table, and Express for the pages around it. */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type Authenticator, bearerToken } from '../auth/policy.js';
import { type ErrorCode, ShiftctlError } from '../errors.js';
import type { NewJournalEntry } from '../store/types.js';
import type { AdminFeed } from './admin-events.js';
import type { AnswerLimiter } from './api-router.js';
import { createApiRouter, errorResponse } from './api-router.js';
import type { ClientAddress } from './client-address.js';
import type { FailureAnswer } from './failures.js';
import type { Faults } from './faults.js';
import type { Logger } from './log.js';
import { createPagesRouter, PAGE_CSP, wantsHtml } from './pages.js';
import type { Route } from './routes.js';

export interface HttpAppOptions {
  routes: Route[];
  /** What an error that is not a coded one is answered (the server's one, shared with upgrades). */
  failures: FailureAnswer;
  openapi: Record<string, unknown>;
  asyncapi: Record<string, unknown>;
  version: string;
  log: Logger;
  /** `Access-Control-Allow-Origin`; no CORS headers at all when undefined. */
  corsOrigin: string | undefined;
  auth: Authenticator;
  /** Limits on answers, per employee and per address; none when undefined. */
  answerLimits?: { employee: AnswerLimiter; address: AnswerLimiter } | undefined;
  /** The address an answer counts against (the peer, or behind a trusted proxy, its client). */
  clientAddress: ClientAddress;
  /** Served over TLS: adds Strict-Transport-Security. */
  tls: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  faults: Faults;
  /** `/metrics` in Prometheus' text format. */
  metrics?: () => Promise<{ text: string; contentType: string }>;
  /** Where each answered API request is recorded. */
  journal(entry: Omit<NewJournalEntry, 'at'>): void;
  /** Counts a request refused at the gate (by its error code) in place of a journal line. */
  refused(code: string): void;
  /** The dashboard's push stream, `GET /api/admin/events`. */
  adminFeed?: AdminFeed;
}

/** `Last-Event-ID` or `?after_id=`: where a stream's client left off. */
function streamCursor(req: Request): number | undefined {
  const header = req.get('last-event-id');
  const query = req.query.after_id;
  const raw = header !== undefined && header !== '' ? header : query;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[0-9]{1,15}$/.test(raw)) {
    throw new ShiftctlError(
      'E_INVALID_QUERY',
      'Invalid query: after_id (or Last-Event-ID) must be a whole number.',
    );
  }
  return Number(raw);
}

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

function sendError(res: Response, code: ErrorCode, message: string, details?: unknown): void {
  const { status, body, headers } = errorResponse(code, message, details);
  res.set(headers).status(status).json(body);
}

function docsPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>shiftctl API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true });</script>
</body>
</html>
`;
}

/** Security headers, and CORS when an origin is allowed: every answer carries them. */
function headersFor(
  req: IncomingMessage,
  options: Pick<HttpAppOptions, 'corsOrigin' | 'tls'>,
): Record<string, string> {
  const path = (req.url ?? '').split('?', 1)[0] ?? '';
  const headers: Record<string, string> = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-site',
    'Content-Security-Policy':
      path === '/docs' || path.startsWith('/docs/')
        ? "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
        : path === '/' || path.startsWith('/app/') || path.startsWith('/assets/')
          ? PAGE_CSP
          : "default-src 'none'; frame-ancestors 'none'",
  };
  if (path.startsWith('/api/')) headers['Cache-Control'] = 'no-store';
  if (options.tls) headers['Strict-Transport-Security'] = 'max-age=31536000';
  if (options.corsOrigin !== undefined) {
    headers['Access-Control-Allow-Origin'] = options.corsOrigin;
    if (options.corsOrigin !== '*') headers.Vary = 'Origin';
  }
  return headers;
}

/**
 * The request listener: table routes go to the lean API router, everything else (the index,
 * the OpenAPI document, the docs, CORS preflights, 404s) to Express.
 */
export function createHttpApp(
  options: HttpAppOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const { failures } = options;
  const api = createApiRouter({
    routes: options.routes,
    auth: options.auth,
    faults: options.faults,
    log: options.log,
    bodyLimit: options.bodyLimit,
    answerLimits: options.answerLimits,
    clientAddress: options.clientAddress,
    // Table routes (the API and /healthz) share one set of headers, computed once.
    commonHeaders: headersFor({ url: '/api/' } as IncomingMessage, options),
    journal: options.journal,
    refused: options.refused,
    failures,
  });

  app.use((req, res, next) => {
    res.set(headersFor(req, options));
    if (req.method === 'OPTIONS' && options.corsOrigin !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  });

  const pages = createPagesRouter({
    authRequired: options.auth.enabled,
    sendError: (res, code, message) => sendError(res, code, message),
  });
  app.get('/', (req, res, next) => {
    // A browser gets the dashboard; API clients, the JSON index.
    res.vary('Accept');
    if (wantsHtml(req)) {
      pages(req, res, next);
      return;
    }
    res.json({
      service: 'shiftctl reference server',
      version: options.version,
      websocket: '/ws/{emp_id}',
      app: '/app/{emp_id}',
      docs: '/docs',
      metrics: '/metrics',
      openapi: '/openapi.json',
      asyncapi: '/asyncapi.json',
      events: '/api/admin/events',
      endpoints: options.routes.map((r) => ({
        method: r.method.toUpperCase(),
        path: r.path,
        summary: r.summary,
      })),
    });
  });
  app.get('/metrics', async (req, res, next) => {
    try {
      if (!options.metrics) throw new ShiftctlError('E_NOT_FOUND', 'No metrics on this server.');
      // What the server does is operators' business: an admin token when tokens are required.
      const principal = await options.auth.authenticate(bearerToken(req.headers.authorization));
      options.auth.authorize(principal, 'admin');
      const { text, contentType } = await options.metrics();
      res.type(contentType).send(text);
    } catch (err) {
      next(err);
    }
  });
  app.get('/api/admin/events', async (req, res, next) => {
    try {
      if (!options.adminFeed) throw new ShiftctlError('E_NOT_FOUND', 'No event stream here.');
      // The same gate as every admin endpoint: an admin token when tokens are required.
      const principal = await options.auth.authenticate(bearerToken(req.headers.authorization));
      options.auth.authorize(principal, 'admin');
      // A dashboard reconnecting over a kept-alive connection must not hold up a shutdown.
      if (options.adminFeed.closed) {
        throw new ShiftctlError('E_UNAVAILABLE', 'Shutting down; connect to the next server.');
      }
      const cursor = streamCursor(req);
      if (req.method === 'HEAD') {
        res.type('text/event-stream').end();
        return;
      }
      options.adminFeed.open(req, res, cursor);
    } catch (err) {
      next(err);
    }
  });
  app.all('/api/admin/events', (req, res) => {
    res.set('Allow', 'GET, HEAD, OPTIONS');
    sendError(res, 'E_METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use GET.`);
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(options.openapi);
  });
  app.get('/asyncapi.json', (_req, res) => {
    res.json(options.asyncapi);
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(docsPage());
  });
  app.use('/docs/assets', express.static(swaggerDir, { index: false }));
  app.use(pages);

  app.use((req, res) => {
    sendError(
      res,
      'E_NOT_FOUND',
      `No endpoint at ${req.method} ${req.path}; see GET / for the list.`,
    );
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = (err as { status?: number }).status;
    if (
      !(err instanceof ShiftctlError) &&
      typeof status === 'number' &&
      status >= 400 &&
      status < 500
    ) {
      sendError(res, 'E_BAD_REQUEST', 'The request could not be read.');
      return;
    }
    const known = failures(err, { method: req.method, path: req.path });
    sendError(res, known.code, known.message, known.details);
  });

  return (req, res) => {
    if (!api(req, res)) app(req, res);
  };
}
