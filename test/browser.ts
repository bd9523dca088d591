/**
 * A real browser for the page tests: Debian's Chromium driven by playwright-core, headless,
 * without a sandbox (tests run as root) and without background networking (nothing leaves
 * the machine). No Chromium found: the tests that need one are skipped, and say so by name.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ShiftServer } from '../src/server/create-server.js';
import { startServer } from './helpers.js';

/** Chromium's path: `SHIFTCTL_CHROMIUM`, else `chromium` on the PATH; undefined when none. */
export function findChromium(): string | undefined {
  const named = process.env.SHIFTCTL_CHROMIUM;
  if (named) return existsSync(named) ? named : undefined;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
}

/** Fails with what to do when the pages were not built (`npm test` builds them first). */
export function assertPagesBuilt(): void {
  const manifest = fileURLToPath(new URL('../dist/web/manifest.json', import.meta.url));
  if (!existsSync(manifest)) {
    throw new Error('dist/web/manifest.json is missing: run `npm run build` before these tests.');
  }
}

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. axe is evaluated through
 * the DevTools protocol: the page's CSP (no inline script) stays in force for everything else.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } })
      .axe;
    return (await axe.run()).violations;
  });
  return (violations as AxeViolation[]).filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
}

/** How long a page test waits for what it expects to see. */
export const PAGE_WAIT_MS = 10_000;

/**
 * Chromium's own console errors for connections refused, dropped or cut (a server restarting,
 * a token refused): expected in these tests. Anything else the page logs as an error is a bug.
 */
const EXPECTED_CONSOLE = /WebSocket|ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED|status of 40[13]/;

const pageErrorsOf = new WeakMap<Page, string[]>();

/**
 * A tab of its own (its own context, so its own sessionStorage) at `url`, which must answer 200;
 * the context goes into `contexts` for the test to close. The page's errors are kept for
 * `pageErrors`.
 */
export async function openTab(
  browser: Browser,
  contexts: BrowserContext[],
  url: string,
  viewport: { width: number; height: number },
): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_WAIT_MS);
  const errors: string[] = [];
  pageErrorsOf.set(page, errors);
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !EXPECTED_CONSOLE.test(m.text())) errors.push(m.text());
  });
  const res = await page.goto(url);
  if (res?.status() !== 200) throw new Error(`${url} answered ${res?.status()}, not 200`);
  return page;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Keeps a screenshot: into `dir` (a test's temp dir, read back to check it was written whole),
 * and into SHIFTCTL_SCREENSHOTS as well when it is set (`npm run screenshots`: docs/images).
 */
export function keepScreenshot(dir: string, name: string, png: Buffer): void {
  if (!png.subarray(0, 8).equals(PNG)) throw new Error(`${name} is not a PNG`);
  writeFileSync(join(dir, name), png);
  if (readFileSync(join(dir, name)).length !== png.length) throw new Error(`${name} was cut short`);
  const wanted = process.env.SHIFTCTL_SCREENSHOTS;
  if (wanted) {
    mkdirSync(resolve(wanted), { recursive: true });
    writeFileSync(join(resolve(wanted), name), png);
  }
}

/** Uncaught exceptions and console errors of a tab opened with `openTab`. */
export function pageErrors(page: Page): string[] {
  return pageErrorsOf.get(page) ?? [];
}

/**
 * Keeps every text the element at `selector` shows from now on, so that a test can ask whether
 * a state came and went, however briefly, and in what order: `seen(texts)` waits until those
 * exact texts have been shown in that order (others may come between). A test that waits for a passing state to be visible
 * instead races it (a reconnect countdown lasts 1-2 s, and a loaded machine can miss it).
 */
export async function recordTexts(
  page: Page,
  selector: string,
): Promise<{ seen(texts: string[]): Promise<void>; all(): Promise<string[]> }> {
  await page.evaluate((sel) => {
    // The page's globals, typed here: the tests are compiled without the DOM's types.
    const { document, MutationObserver } = globalThis as unknown as {
      document: { body: unknown; querySelector(s: string): { textContent: string | null } | null };
      MutationObserver: new (
        take: () => void,
      ) => { observe(target: unknown, options: Record<string, boolean>): void };
    };
    const shown: string[] = [];
    const take = () => {
      const text = document.querySelector(sel)?.textContent ?? '';
      if (shown[shown.length - 1] !== text) shown.push(text);
    };
    take();
    new MutationObserver(take).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
    (globalThis as unknown as { __shownTexts: string[] }).__shownTexts = shown;
  }, selector);
  const all = () =>
    page.evaluate(() => [...(globalThis as unknown as { __shownTexts: string[] }).__shownTexts]);
  return {
    all,
    async seen(texts) {
      await page
        .waitForFunction((wanted) => {
          const shown = (globalThis as unknown as { __shownTexts: string[] }).__shownTexts;
          let at = 0;
          for (const text of shown) if (text === wanted[at] && ++at === wanted.length) break;
          return at === wanted.length;
        }, texts)
        .catch(async (err: unknown) => {
          throw new Error(
            `${selector} never showed ${JSON.stringify(texts)} in that order; it showed ${JSON.stringify(await all())}`,
            { cause: err },
          );
        });
    },
  };
}

/**
 * Signs in on a page's token form with a token the server refuses (the page must say so, ask
 * again and keep nothing), then with one it takes.
 */
export async function signInAfterRefusal(
  page: Page,
  label: string,
  refused: string,
  accepted: string,
): Promise<void> {
  await page.getByLabel(label).fill(refused);
  await page.keyboard.press('Enter');
  await page
    .getByRole('alert')
    .getByText(/refused the token/)
    .waitFor();
  if ((await page.evaluate('sessionStorage.length')) !== 0) {
    throw new Error('a refused token was kept in sessionStorage');
  }
  await page.getByLabel(label).fill(accepted);
  await page.keyboard.press('Enter');
}

/**
 * The hooks of a suite of page tests, registered in the `describe` that calls it: Chromium
 * launched once for the suite, and after each test the tabs it opened, the servers it started
 * and the temporary directories it made closed or removed.
 */
export function browserSuite(executablePath: string, tmpPrefix: string) {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const servers: ShiftServer[] = [];
  const dirs: string[] = [];
  const launched = (): Browser => {
    if (!browser) throw new Error('Chromium is not launched yet (use the suite inside a test).');
    return browser;
  };
  beforeAll(async () => {
    assertPagesBuilt();
    browser = await launchChromium(executablePath);
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    /** A server for this test, closed after it. */
    async serve(options: Parameters<typeof startServer>[0] = {}): Promise<ShiftServer> {
      const server = await startServer(options);
      servers.push(server);
      return server;
    },
    /** A tab of its own (its own sessionStorage), with the page's errors kept (pageErrors). */
    open: (url: string, viewport: { width: number; height: number }): Promise<Page> =>
      openTab(launched(), contexts, url, viewport),
    /** A bare browser context, closed after the test. */
    async newContext(viewport: { width: number; height: number }): Promise<BrowserContext> {
      const context = await launched().newContext({ viewport });
      contexts.push(context);
      return context;
    },
    /** A temporary directory, removed after the test. */
    tempDir(): string {
      const dir = mkdtempSync(join(tmpdir(), tmpPrefix));
      dirs.push(dir);
      return dir;
    },
  };
}
