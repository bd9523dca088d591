/**
 * The browser pages: `/app/{emp_id}` (the app in a tab) and, for a browser, the dashboard at `/`.
 * Their scripts and styles are bundled by src/web/build.mjs into dist/web/assets/ under names that
 * carry a hash of their content, so they are served from `/assets/` to be cached for good; the
 * manifest beside them says which file is which page's. No inline script or style: the pages work
 * under PAGE_CSP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response, type Router } from 'express';
import { IdParam } from '../protocol/schemas.js';

/** The pages' Content-Security-Policy: their own scripts and styles, their own API, nothing else. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Where `npm run build` puts the bundles: dist/web/ at the package's root, from src/ or dist/. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

export interface PagesOptions {
  /** The built bundles; default dist/web/. */
  dir?: string;
  /** The server wants tokens: the app page asks for one before it calls anything. */
  authRequired: boolean;
  /** The answer to an API client asking for a page it cannot use (a JSON error). */
  sendError(res: Response, code: 'E_INVALID_PARAM' | 'E_UNAVAILABLE', message: string): void;
}

type Manifest = Record<string, { js?: string; css?: string }>;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

/** A page of text only, for errors a browser should read. */
function textPage(title: string, paragraphs: string[]): string {
  return page(
    title,
    '',
    `<main>\n<h1>${escapeHtml(title)}</h1>\n${paragraphs.map((p) => `<p>${p}</p>`).join('\n')}\n</main>`,
  );
}

/** Whether the caller asked for HTML before JSON (a browser's navigation). */
export function wantsHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

export function createPagesRouter(options: PagesOptions): Router {
  const dir = options.dir ?? DEFAULT_WEB_DIR;
  let manifest: Manifest | undefined;

  /** Read once it exists: a server started before `npm run build` finished still gets it. */
  function bundles(): Manifest | undefined {
    if (!manifest) {
      try {
        manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      } catch {
        return undefined;
      }
    }
    return manifest;
  }

  /** A refusal: a page of text for a browser, the JSON error for an API client. */
  function refuse(
    req: Request,
    res: Response,
    code: 'E_INVALID_PARAM' | 'E_UNAVAILABLE',
    title: string,
    message: string,
  ): void {
    if (!wantsHtml(req)) {
      options.sendError(res, code, message);
      return;
    }
    res
      .status(code === 'E_UNAVAILABLE' ? 503 : 400)
      .type('html')
      .send(textPage(title, [escapeHtml(message)]));
  }

  /** A built page: its root element, its bundle, and whether the server wants tokens. */
  function serve(req: Request, res: Response, name: string, title: string, root: string): void {
    const bundle = bundles()?.[name];
    if (!bundle?.js) {
      const message = 'The web pages are not built; run `npm run build` and reload.';
      refuse(req, res, 'E_UNAVAILABLE', 'Not built', message);
      return;
    }
    const head = [
      bundle.css ? `<link rel="stylesheet" href="/assets/${escapeHtml(bundle.css)}">` : '',
      `<script type="module" src="/assets/${escapeHtml(bundle.js)}"></script>`,
    ].join('\n');
    const auth = options.authRequired ? ' data-auth="required"' : '';
    res
      .set('Cache-Control', 'no-cache')
      .type('html')
      .send(
        page(
          title,
          head,
          `<div ${root}${auth}></div>\n<noscript>This page needs JavaScript.</noscript>`,
        ),
      );
  }

  const router = express.Router();

  router.get('/app/:empId', (req, res) => {
    const id = IdParam.safeParse(req.params.empId);
    if (!id.success) {
      const message = 'The employee id in /app/{emp_id} must be a positive integer, e.g. /app/101.';
      refuse(req, res, 'E_INVALID_PARAM', 'No such employee page', message);
      return;
    }
    serve(req, res, 'app', `Employee ${id.data} · shiftctl`, `id="app" data-emp-id="${id.data}"`);
  });

  // The dashboard; `/` answers API clients with the JSON index before this is reached.
  router.get('/', (req, res) => {
    serve(req, res, 'dashboard', 'shiftctl dashboard', 'id="dashboard"');
  });

  // Hashed names: a file's content never changes under its name.
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      index: false,
      immutable: true,
      maxAge: '365d',
      dotfiles: 'ignore',
    }),
  );
  return router;
}
