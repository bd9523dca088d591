/**
 * The dashboard (`/`) in a real Chromium against a real server, beside app tabs: a shift sent
 * from its form is raced for by two tabs and the dashboard shows the winner without a reload;
 * a `--secret` server's dashboard does nothing without an admin token; the keyboard alone sends
 * an offer and resets; axe finds no serious violation; the stream's reconnect is shown and
 * recovers. The race also takes the README's screenshots (into SHIFTCTL_SCREENSHOTS when set).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth/token.js';
import { DEMO_FIXTURES_PATH, readFixtures } from '../src/fixtures.js';
import type { ShiftServer } from '../src/server/create-server.js';
import {
  assertPagesBuilt,
  browserSuite,
  findChromium,
  keepScreenshot,
  pageErrors,
  recordTexts,
  seriousViolations,
  signInAfterRefusal,
} from './browser.js';
import { get, http, post, startServer } from './helpers.js';

const CHROMIUM = findChromium();

describe.skipIf(!CHROMIUM)(
  CHROMIUM ? 'the dashboard in Chromium' : 'the dashboard in Chromium (skipped: no chromium found)',
  { timeout: 30_000 },
  () => {
    const suite = browserSuite(CHROMIUM as string, 'shiftctl-dashboard-');
    const { serve, tempDir } = suite;

    const openDashboard = (server: ShiftServer) =>
      suite.open(`${server.url}/`, { width: 1280, height: 860 });
    const openApp = (server: ShiftServer, empId: number) =>
      suite.open(`${server.url}/app/${empId}`, { width: 390, height: 700 });

    const streamStatus = (page: Page, text: string | RegExp) =>
      page.locator('#stream-status').filter({ hasText: text }).waitFor();
    const notice = (page: Page, text: string | RegExp) =>
      page.locator('#notice').getByText(text).waitFor();
    const appStatus = (page: Page, text: string) =>
      page.getByRole('status').filter({ hasText: text }).waitFor();
    const dialog = (page: Page) => page.getByRole('dialog', { name: 'New shift offer' });
    const appNotice = (page: Page, shiftId: number) =>
      page.locator(`.notices li[data-shift="${shiftId}"]`);
    const employeeCell = (page: Page, empId: number, col: string) =>
      page.locator(`tr[data-emp="${empId}"] [data-col="${col}"]`);

    const keep = (name: string, png: Buffer) => keepScreenshot(tempDir(), name, png);

    /** Two phone-sized shots side by side, as one picture. */
    async function sideBySide(left: Buffer, right: Buffer): Promise<Buffer> {
      const context = await suite.newContext({ width: 804, height: 416 });
      const page = await context.newPage();
      const img = (png: Buffer) =>
        `<img alt="" src="data:image/png;base64,${png.toString('base64')}">`;
      await page.setContent(
        `<body style="margin:0;padding:8px;display:flex;gap:8px;background:#8a939c">${img(left)}${img(right)}</body>`,
      );
      await page.waitForFunction('[...document.images].every((i) => i.complete)');
      return page.screenshot({ type: 'png' });
    }

    it('a shift sent from the form is raced for by two tabs, and the dashboard shows the winner', async () => {
      const demo = await readFixtures(DEMO_FIXTURES_PATH);
      const server = await serve({ fixtures: { ...demo, shifts: [] } });
      const board = await openDashboard(server);
      await streamStatus(board, 'Live');
      const [a, b] = await Promise.all([openApp(server, 101), openApp(server, 102)]);
      await Promise.all([appStatus(a, 'Connected'), appStatus(b, 'Connected')]);
      // The tabs' devices appear live, from the stream's presence events.
      await employeeCell(board, 101, 'devices').getByText('1', { exact: true }).waitFor();
      await employeeCell(board, 102, 'devices').getByText('1', { exact: true }).waitFor();

      await board.getByLabel('Offer to (employee ids)').fill('101, 102');
      await board.getByLabel('Description').fill('Overnight supervision.');
      await board.getByRole('button', { name: 'Create shift' }).click();
      await notice(board, /^Created shift \d+, offered to 101 \(sent\), 102 \(sent\)\.$/);
      const text = (await board.locator('#notice').textContent()) ?? '';
      const shiftId = Number(/Created shift (\d+)/.exec(text)?.[1]);
      for (const page of [a, b]) {
        await dialog(page).getByText(String(shiftId), { exact: true }).waitFor();
        await dialog(page).getByText('Maple Grove Care Home', { exact: true }).waitFor();
      }
      const row = board.locator(`tr[data-shift="${shiftId}"]`);
      await row.getByText('2 open').waitFor();

      await Promise.all([a.keyboard.press('a'), b.keyboard.press('a')]);
      await Promise.all([appNotice(a, shiftId).waitFor(), appNotice(b, shiftId).waitFor()]);
      const statuses = [
        await appNotice(a, shiftId).getAttribute('data-status'),
        await appNotice(b, shiftId).getAttribute('data-status'),
      ];
      expect([...statuses].sort()).toEqual(['assigned', 'taken']);
      const [winner, loser] = statuses[0] === 'assigned' ? [101, 102] : [102, 101];

      // The dashboard shows it without a reload: the shift, the employee, the journal.
      await board.locator(`tr[data-shift="${shiftId}"][data-status="assigned"]`).waitFor();
      expect(await row.locator('[data-col="assigned"]').textContent()).toBe(String(winner));
      await employeeCell(board, winner, 'assigned')
        .getByText(String(shiftId), { exact: true })
        .waitFor();
      expect(await employeeCell(board, loser, 'assigned').textContent()).toBe('—');
      await board
        .locator('table.journal tr')
        .filter({ hasText: 'offer_result' })
        .filter({ hasText: String(loser) })
        .first()
        .waitFor();
      // Each offer's outcome: the shift just created is the one selected.
      await row.getByRole('button', { pressed: true }).waitFor();
      const holders = board.locator('table.holders');
      await holders.locator(`tr[data-emp="${winner}"][data-outcome="assigned"]`).waitFor();
      await holders.locator(`tr[data-emp="${loser}"][data-outcome="taken"]`).waitFor();
      expect(await board.evaluate('location.pathname')).toBe('/');

      // The dashboard's own reads are journalled but hidden, and do not refresh it for ever.
      expect(await board.locator('table.journal tr').filter({ hasText: 'GET ' }).count()).toBe(0);

      // Tall enough for the journal's first lines too.
      await board.setViewportSize({ width: 1280, height: 1120 });
      await board.evaluate('window.scrollTo(0, 0)');
      keep('dashboard.png', await board.screenshot({ type: 'png' }));
      const [left, right] = winner === 101 ? [a, b] : [b, a];
      const clip = { x: 0, y: 0, width: 390, height: 400 };
      keep(
        'app-race.png',
        await sideBySide(await left.screenshot({ clip }), await right.screenshot({ clip })),
      );
      expect([...pageErrors(board), ...pageErrors(a), ...pageErrors(b)]).toEqual([]);
    }, 45_000);

    it('wraps a long name without spaces, keeping every column of its table in view', async () => {
      const server = await serve();
      const long = `Maple${'Grove'.repeat(50)}CareHome`;
      const created = await post(server, '/api/admin/shifts', {
        date: '2026-12-01',
        start_time: '08:00',
        end_time: '16:00',
        location_name: long,
        client_name: long,
        offer_to: [101],
      });
      expect(created.status).toBe(201);
      const board = await openDashboard(server);
      await streamStatus(board, 'Live');
      await board.locator(`tr[data-shift="${created.body.shift.id}"]`).getByText(long).waitFor();
      // No scrolling region (the tables) is wider than its box, nor the page.
      const wider = await board.evaluate(
        `[...document.querySelectorAll('.scroll')].filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.getAttribute('aria-label'))`,
      );
      expect(wider).toEqual([]);
      expect(await board.evaluate('document.documentElement.scrollWidth - innerWidth')).toBe(0);
    });

    it('with a secret, does nothing without an admin token and works once one is entered', async () => {
      const secret = 'dashboard-secret-0123456789abcdef';
      const server = await serve({ secret });
      const admin = await signToken({ role: 'admin' }, secret, 3600);
      const employee = await signToken({ emp_id: 101, role: 'employee' }, secret, 3600);
      const board = await openDashboard(server);
      const calls: { url: string; auth: string | undefined }[] = [];
      board.on('request', (req) =>
        calls.push({ url: req.url(), auth: req.headers().authorization }),
      );
      const field = board.getByLabel('Admin token');
      await field.waitFor();
      expect(await board.evaluate('document.activeElement?.id')).toBe('admin-token');
      expect(await seriousViolations(board)).toEqual([]);
      expect(calls).toEqual([]);

      // An employee's token is refused, forgotten, and asked for again.
      await signInAfterRefusal(board, 'Admin token', employee, admin);
      await streamStatus(board, 'Live');
      await board.getByRole('heading', { name: 'Employees' }).waitFor();
      const sent = await http(server, 'POST', '/api/test/send_offer/101?shift_id=4242', undefined, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(sent.status).toBe(200);
      await board.locator('tr[data-shift="4242"]').waitFor();
      expect(await board.evaluate("sessionStorage.getItem('shiftctl.admin-token')")).toBe(admin);
      // The token went in headers only: never in a URL.
      expect(board.url()).toBe(`${server.url}/`);
      const api = calls.filter((c) => new URL(c.url).pathname.startsWith('/api/'));
      expect(api.map((c) => new URL(c.url).pathname)).toContain('/api/admin/events');
      for (const call of calls) expect(call.url).not.toContain(admin.slice(0, 20));
      for (const call of api.filter((c) => c.auth === `Bearer ${admin}`)) {
        expect(call.url).not.toContain('token');
      }
      expect(
        api.every((c) => c.auth === `Bearer ${employee}` || c.auth === `Bearer ${admin}`),
      ).toBe(true);
      expect(pageErrors(board)).toEqual([]);
    });

    it('from the keyboard alone: sends an offer, filters and pauses the journal, and resets', async () => {
      const server = await serve();
      const board = await openDashboard(server);
      const app = await openApp(server, 101);
      await Promise.all([streamStatus(board, 'Live'), appStatus(app, 'Connected')]);

      // Tab to the first form, type, Enter.
      for (let i = 0; i < 30; i++) {
        if ((await board.evaluate('document.activeElement?.id')) === 'send-emp') break;
        await board.keyboard.press('Tab');
      }
      expect(await board.evaluate('document.activeElement?.id')).toBe('send-emp');
      await board.keyboard.type('101');
      await board.keyboard.press('Enter');
      await notice(board, 'Shift 999 offered to employee 101: sent (1 device).');
      await dialog(app).getByText('999', { exact: true }).waitFor();
      expect(await seriousViolations(board)).toEqual([]);

      // The journal: filter by kind, then pause; lines that come meanwhile wait for resume.
      await board.getByLabel('Kind').selectOption('push');
      const journalRows = board.locator('table.journal tbody tr');
      await journalRows.first().waitFor();
      expect(await journalRows.evaluateAll((rows) => rows.map((r) => r.dataset.kind))).toEqual(
        expect.arrayContaining(['push']),
      );
      expect(
        (await journalRows.evaluateAll((rows) => rows.map((r) => r.dataset.kind))).every(
          (k) => k === 'push',
        ),
      ).toBe(true);
      const pause = board.getByRole('button', { name: 'Pause' });
      await pause.focus();
      await board.keyboard.press('Enter');
      const before = await journalRows.count();
      await post(server, '/api/test/send_offer/102?shift_id=998');
      const resume = board.getByRole('button', { name: /^Resume \(\d+ new\)$/ });
      await resume.waitFor();
      expect(await journalRows.count()).toBe(before);
      // It counts the lines the filter shows: the offer's push, not its request line (it said
      // more than resume then showed). Lines coming after the count is read can only add.
      const held = Number(/\((\d+) new\)/.exec((await resume.textContent()) ?? '')?.[1]);
      await board.keyboard.press('Enter');
      await board
        .locator('table.journal tr[data-kind="push"]')
        .filter({ hasText: '998' })
        .waitFor();
      expect(await journalRows.count()).toBeGreaterThanOrEqual(before + held);

      // Reset asks first; the focus starts on Cancel.
      await board.getByRole('button', { name: 'Reset…' }).focus();
      await board.keyboard.press('Enter');
      const confirm = board.getByRole('dialog', { name: 'Delete everything?' });
      await confirm.waitFor();
      expect(await board.evaluate('document.activeElement?.textContent')).toBe('Cancel');
      expect(await seriousViolations(board)).toEqual([]);
      await board.keyboard.press('Enter');
      await confirm.waitFor({ state: 'hidden' });
      expect((await get(server, '/api/admin/shifts')).body).toHaveLength(2);
      await board.getByRole('button', { name: 'Reset…' }).focus();
      await board.keyboard.press('Enter');
      await board.keyboard.press('Tab');
      await board.keyboard.press('Enter');
      await notice(board, /was deleted/);
      await board.getByText('No shifts yet.').waitFor();
      expect((await get(server, '/api/admin/shifts')).body).toEqual([]);
      // The app tab is told its offer is gone.
      await dialog(app).waitFor({ state: 'hidden' });
      expect(pageErrors(board)).toEqual([]);
    });

    it('drives the lifecycle from its forms: approval, more offers, withdrawal, faults, a scenario', async () => {
      const server = await serve();
      const board = await openDashboard(server);
      const app = await openApp(server, 101);
      await Promise.all([streamStatus(board, 'Live'), appStatus(app, 'Connected')]);

      // A shift that needs approval, for two slots, to 101.
      await board.getByLabel('Offer to (employee ids)').fill('101');
      await board.getByLabel('Needs approval').check();
      await board.getByLabel('Slots').fill('2');
      await board.getByLabel('Expires after (s)', { exact: true }).last().fill('600');
      await board.getByRole('button', { name: 'Create shift' }).click();
      await notice(board, /^Created shift \d+, offered to 101 \(sent\)\.$/);
      const text = (await board.locator('#notice').textContent()) ?? '';
      const shiftId = Number(/Created shift (\d+)/.exec(text)?.[1]);
      const row = board.locator(`tr[data-shift="${shiftId}"]`);
      await row.getByText('broadcast, approval').waitFor();
      expect(await row.locator('td').nth(3).textContent()).toBe('2');

      await dialog(app).getByText(String(shiftId), { exact: true }).waitFor();
      await app.keyboard.press('a');
      await appNotice(app, shiftId).and(app.locator('[data-status="requested"]')).waitFor();
      const holders = board.locator('table.holders');
      await holders.locator('tr[data-emp="101"][data-outcome="requested"]').waitFor();
      await board.getByRole('button', { name: 'Approve employee 101' }).click();
      await notice(board, `Shift ${shiftId} given to employee 101.`);
      await appNotice(app, shiftId).getByText(`Shift ${shiftId} is yours.`).waitFor();
      await holders.locator('tr[data-emp="101"][data-outcome="assigned"]').waitFor();

      // The second slot: offered to 102 from the shift's own form, then withdrawn.
      await board.getByLabel('Offer to more employees').fill('102');
      await board.getByRole('button', { name: 'Offer', exact: true }).click();
      await notice(board, `Shift ${shiftId} offered to 102 (pending).`);
      await holders.locator('tr[data-emp="102"][data-outcome="open"]').waitFor();
      await board.getByRole('button', { name: `Withdraw shift ${shiftId}` }).click();
      await board.locator(`tr[data-shift="${shiftId}"][data-status="withdrawn"]`).waitFor();
      await appNotice(app, shiftId).getByText(`Shift ${shiftId} was withdrawn.`).waitFor();

      // Faults, set and cleared.
      await board.getByLabel('Drop rate (0 to 1)').fill('0.5');
      await board.getByLabel('Push latency (ms)').fill('20');
      await board.getByRole('button', { name: 'Set faults' }).click();
      await board.getByText('In force: push latency 20 ms, drop rate 0.5').waitFor();
      expect((await get(server, '/api/admin/faults')).body.drop_rate).toBe(0.5);
      await board.getByRole('button', { name: 'Clear faults' }).click();
      await board.getByText('In force: none').waitFor();

      // A scenario, pasted; a bad one is refused with the server's reason.
      await board.getByLabel('or its JSON').fill('{"name":"x","steps":[]}');
      await board.getByRole('button', { name: 'Play scenario' }).click();
      await notice(board, /^Play the scenario: Invalid request body: steps/);
      const scenario = {
        name: 'Pasted',
        steps: [
          {
            at: 0,
            create_shift: {
              id: 4321,
              date: '2026-12-02',
              start_time: '08:00',
              end_time: '16:00',
              offer_to: [101],
            },
          },
        ],
      };
      await board.getByLabel('or its JSON').fill(JSON.stringify(scenario));
      await board.getByRole('button', { name: 'Play scenario' }).click();
      await notice(board, 'Playing "Pasted": 1 step over 0 s.');
      await board.locator('tr[data-shift="4321"]').waitFor();
      await dialog(app).getByText('4321', { exact: true }).waitFor();
      expect(await seriousViolations(board)).toEqual([]);
      // Chromium logs the refused scenario's 400 itself; nothing else may show up.
      const unexpected = pageErrors(board).filter((e) => !/status of 400/.test(e));
      expect([...unexpected, ...pageErrors(app)]).toEqual([]);
    }, 45_000);

    it('shows when the stream is cut, reconnects by itself and catches up', async () => {
      const dir = tempDir();
      const db = join(dir, 'shifts.db');
      const first = await startServer({ db });
      const board = await openDashboard(first);
      await streamStatus(board, 'Live');
      const shown = await recordTexts(board, '#stream-status');
      await first.close();
      // Nothing listens: the schedule moves on.
      await shown.seen([
        'Disconnected: reconnecting in 1 s (attempt 1)',
        'Disconnected: reconnecting in 2 s (attempt 2)',
      ]);

      const second = await serve({ db, port: first.port });
      await streamStatus(board, 'Live');
      // Written after the reconnect: the stream carries it, the views follow.
      const sent = await post(second, '/api/test/send_offer/101?shift_id=777');
      expect(sent.status).toBe(200);
      await board.locator('tr[data-shift="777"]').waitFor();
      await board.locator('table.journal tr').filter({ hasText: '777' }).first().waitFor();
      expect(await board.evaluate('location.pathname')).toBe('/');
    }, 45_000);
  },
);

describe('serving the dashboard (no browser needed)', () => {
  const servers: ShiftServer[] = [];
  beforeAll(assertPagesBuilt);
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('answers / with the dashboard for a browser, under the pages CSP, and JSON otherwise', async () => {
    const server = await startServer({ secret: 'dashboard-secret-0123456789abcdef' });
    servers.push(server);
    const res = await fetch(`${server.url}/`, { headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('vary')).toContain('Accept');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('<div id="dashboard" data-auth="required">');
    expect(html).not.toMatch(/<script>|<style|style=/);
    const script = /src="(\/assets\/dashboard-[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${server.url}${script}`)).status).toBe(200);
    const json = await get(server, '/');
    expect(json.body.service).toBe('shiftctl reference server');
  });
});
