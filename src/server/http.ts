/** The Express app: the route table mounted with one validation layer and one error shape. */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type Authenticator, bearerToken, type Principal } from '../auth/policy.js';
import { ERROR_STATUS, type ErrorCode, ShiftctlError } from '../errors.js';
import type { ErrorBody } from '../protocol/schemas.js';
import { parse } from '../protocol/validate.js';
import type { NewJournalEntry } from '../store/types.js';
import type { Faults } from './faults.js';
import type { Logger } from './log.js';
import type { RateLimiter } from './rate-limit.js';
import type { Route } from './routes.js';

export interface HttpAppOptions {
  routes: Route[];
  openapi: Record<string, unknown>;
  version: string;
  log: Logger;
  /** `Access-Control-Allow-Origin`; no CORS headers at all when undefined. */
  corsOrigin: string | undefined;
  auth: Authenticator;
  /** Limits on answers, per employee and per address; none when undefined. */
  answerLimits?: { employee: RateLimiter; address: RateLimiter } | undefined;
  /** Served over TLS: adds Strict-Transport-Security. */
  tls: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  faults: Faults;
  /** Where each answered API request is recorded. */
  journal(entry: Omit<NewJournalEntry, 'at'>): void;
}

/** A positive integer from a path, query or body value, or null. */
function idOf(value: unknown): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
}

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

function sendError(res: Response, code: ErrorCode, message: string, details?: unknown): void {
  res.locals.errorCode = code;
  if (ERROR_STATUS[code] === 401) {
    const error = code === 'E_AUTH_REQUIRED' ? '' : ', error="invalid_token"';
    res.setHeader('WWW-Authenticate', `Bearer realm="shiftctl"${error}`);
  }
  const retryAfter = (details as { retry_after_s?: number } | undefined)?.retry_after_s;
  if (code === 'E_RATE_LIMITED' && retryAfter !== undefined) {
    res.setHeader('Retry-After', String(retryAfter));
  }
  const body: ErrorBody = { success: false, code, message };
  if (details !== undefined) body.details = details;
  res.status(ERROR_STATUS[code]).json(body);
}

/** Body-parser and router errors carry a `type` or a `status`; map them to our codes. */
function classify(err: unknown): ShiftctlError | undefined {
  if (err instanceof ShiftctlError) return err;
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  switch (e.type) {
    case 'entity.parse.failed':
      return new ShiftctlError('E_BAD_JSON', `Request body is not valid JSON: ${e.message}`);
    case 'entity.too.large':
      return new ShiftctlError(
        'E_BODY_TOO_LARGE',
        `Request body is larger than the limit of ${e.limit} bytes.`,
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ShiftctlError('E_UNSUPPORTED_MEDIA_TYPE', String(e.message));
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ShiftctlError('E_BAD_REQUEST', 'The request could not be read.');
  }
  return undefined;
}

function limit(limiter: RateLimiter, key: string): void {
  const taken = limiter.take(key);
  if (!taken.ok) {
    throw new ShiftctlError(
      'E_RATE_LIMITED',
      `Too many answers; try again in ${taken.retryAfterSeconds} s.`,
      { retry_after_s: taken.retryAfterSeconds },
    );
  }
}

function toExpressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
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

export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Security headers on every answer; the docs page gets a policy that lets Swagger UI run.
  app.use((req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-site');
    res.setHeader(
      'Content-Security-Policy',
      req.path === '/docs' || req.path.startsWith('/docs/')
        ? "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
        : "default-src 'none'; frame-ancestors 'none'",
    );
    if (req.path.startsWith('/api/')) res.setHeader('Cache-Control', 'no-store');
    if (options.tls) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  });

  app.use((req, res, next) => {
    const origin = options.corsOrigin;
    if (origin === undefined) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (origin !== '*') res.setHeader('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  });

  // Fault injection: slow answers for everything but the admin API (so it can be switched off).
  app.use('/api', (req, _res, next) => {
    const latency = options.faults.httpLatencyMs;
    if (latency > 0 && !req.path.startsWith('/admin')) setTimeout(next, latency);
    else next();
  });

  // The journal: every API request with its employee, shift and outcome.
  app.use('/api', (req, res, next) => {
    res.on('finish', () => {
      const body = req.body as { emp_id?: unknown; shift_id?: unknown } | undefined;
      const params = (res.locals.params ?? {}) as Record<string, string | undefined>;
      const route = res.locals.route as string | undefined;
      options.journal({
        kind: 'request',
        empId: idOf(params.emp_id ?? body?.emp_id),
        shiftId: idOf(params.shift_id ?? params.id ?? body?.shift_id ?? req.query.shift_id),
        name: `${req.method} ${route ?? req.originalUrl.split('?')[0]}`,
        outcome: String(res.statusCode),
        detail: res.statusCode >= 400 ? { code: res.locals.errorCode } : null,
      });
    });
    next();
  });

  // Any content type is read as JSON: curl and the app both send JSON, labelled or not.
  const json = express.json({ limit: options.bodyLimit, type: () => true, strict: false });

  const methodsByPath = new Map<string, string[]>();
  for (const r of options.routes) {
    const path = toExpressPath(r.path);
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), r.method.toUpperCase()]);
    // Who is calling is settled before the body is read.
    const authenticate = (req: Request, res: Response, next: NextFunction): void => {
      res.locals.params = req.params;
      res.locals.route = r.path;
      res.locals.principal =
        r.access === 'public'
          ? undefined
          : options.auth.authenticate(bearerToken(req.headers.authorization));
      next();
    };
    const handler = async (req: Request, res: Response): Promise<void> => {
      const params = r.params ? parse(r.params, req.params, 'param') : {};
      const query = r.query ? parse(r.query, { ...req.query }, 'query') : {};
      let body: unknown;
      if (r.body) {
        if (req.body === undefined) {
          if (!r.bodyOptional) {
            throw new ShiftctlError('E_INVALID_BODY', 'A JSON request body is required.');
          }
        } else {
          body = parse(r.body, req.body, 'body');
        }
      }
      const input = { params, query, body };
      const principal = res.locals.principal as Principal | undefined;
      if (principal) options.auth.authorize(principal, r.access, r.subject?.(input));
      if (r.rateLimited && options.answerLimits) {
        limit(options.answerLimits.address, `ip:${req.socket.remoteAddress}`);
        if (r.subject) limit(options.answerLimits.employee, `emp:${r.subject(input)}`);
      }
      const result = await r.handle(input);
      res.status(r.status ?? 200).json(result);
    };
    if (r.body) app[r.method](path, authenticate, json, handler);
    else app[r.method](path, authenticate, handler);
  }
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
    app.all(path, (req, res) => {
      res.setHeader('Allow', allow);
      sendError(
        res,
        'E_METHOD_NOT_ALLOWED',
        `${req.method} is not allowed here; use ${methods.join(' or ')}.`,
      );
    });
  }

  app.get('/', (_req, res) => {
    res.json({
      service: 'shiftctl reference server',
      version: options.version,
      websocket: '/ws/{emp_id}',
      docs: '/docs',
      openapi: '/openapi.json',
      endpoints: options.routes.map((r) => ({
        method: r.method.toUpperCase(),
        path: r.path,
        summary: r.summary,
      })),
    });
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(options.openapi);
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(docsPage());
  });
  app.use('/docs/assets', express.static(swaggerDir, { index: false }));

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
    const known = classify(err);
    if (known) {
      sendError(res, known.code, known.message, known.details);
      return;
    }
    options.log.error('unexpected error while handling a request', {
      method: req.method,
      path: req.path,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    sendError(res, 'E_INTERNAL', 'The server failed to handle this request; see its log.');
  });

  return app;
}
