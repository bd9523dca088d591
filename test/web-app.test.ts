/**
 * The app in a tab (`/app/{emp_id}`), in a real Chromium against a real server: two tabs race
 * for one shift, a tab rides out a server restart, a `--secret` server's page does nothing
 * without a token, keys answer, and axe finds no serious accessibility violation.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth/token.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { createLogger } from '../src/server/log.js';
import {
  assertPagesBuilt,
  browserSuite,
  findChromium,
  pageErrors,
  recordTexts,
  seriousViolations,
  signInAfterRefusal,
} from './browser.js';
import { get, http, post, startServer } from './helpers.js';

const CHROMIUM = findChromium();

const SHIFT = {
  date: '2026-12-01',
  start_time: '22:00',
  end_time: '07:00',
  location_name: 'Maple Grove Care Home',
  client_name: 'Margaret Chen',
  service_type: 'Overnight Care',
  description: 'Overnight supervision.',
};

describe.skipIf(!CHROMIUM)(
  CHROMIUM ? 'the app page in Chromium' : 'the app page in Chromium (skipped: no chromium found)',
  { timeout: 30_000 },
  () => {
    const suite = browserSuite(CHROMIUM as string, 'shiftctl-web-');
    const { serve } = suite;

    /** A tab of its own (its own sessionStorage), with the page's errors made test failures. */
    const openApp = (server: ShiftServer, empId: number): Promise<Page> =>
      suite.open(`${server.url}/app/${empId}`, { width: 390, height: 844 });

    const status = (page: Page, text: string | RegExp) =>
      page.getByRole('status').filter({ hasText: text }).waitFor();
    const notice = (page: Page, shiftId: number) =>
      page.locator(`.notices li[data-shift="${shiftId}"]`);
    const dialog = (page: Page) => page.getByRole('dialog', { name: 'New shift offer' });

    it('two tabs accept one shift: exactly one wins, the other sees it taken', async () => {
      const server = await serve();
      const [a, b] = await Promise.all([openApp(server, 101), openApp(server, 102)]);
      await Promise.all([status(a, 'Connected'), status(b, 'Connected')]);

      const created = await post(server, '/api/admin/shifts', { ...SHIFT, offer_to: [101, 102] });
      expect(created.status).toBe(201);
      const shiftId: number = created.body.shift.id;

      for (const page of [a, b]) {
        const offer = dialog(page);
        await offer.waitFor();
        for (const text of [
          String(shiftId),
          'Tue 1 Dec 2026',
          '22:00-07:00 (9 h, overnight)',
          'Maple Grove Care Home',
          'Margaret Chen',
          'Overnight Care',
          'Overnight supervision.',
        ]) {
          await offer.getByText(text, { exact: true }).waitFor();
        }
        // The dialog takes the focus to its first button.
        expect(await page.evaluate('document.activeElement?.textContent')).toMatch(/^Accept/);
      }

      // Both answer with the key at once; the loser's dialog may already be closing.
      await Promise.all([a.keyboard.press('a'), b.keyboard.press('a')]);
      await Promise.all([notice(a, shiftId).waitFor(), notice(b, shiftId).waitFor()]);
      await Promise.all([
        dialog(a).waitFor({ state: 'hidden' }),
        dialog(b).waitFor({ state: 'hidden' }),
      ]);
      const statusA = await notice(a, shiftId).getAttribute('data-status');
      const statusB = await notice(b, shiftId).getAttribute('data-status');
      expect([statusA, statusB].sort()).toEqual(['assigned', 'taken']);
      const [winner, loser] = statusA === 'assigned' ? [a, b] : [b, a];
      await notice(winner, shiftId).getByText(`Shift ${shiftId} is yours.`).waitFor();
      await notice(loser, shiftId)
        .getByText(`Shift ${shiftId} was taken by someone else.`)
        .waitFor();

      const shift = await get(server, `/api/admin/shifts/${shiftId}`);
      expect(shift.body.assigned_to).toEqual([winner === a ? 101 : 102]);
      // The history shows the outcome too, without a reload.
      await winner
        .locator(`.history li[data-shift="${shiftId}"][data-outcome="assigned"]`)
        .waitFor();
      expect([...pageErrors(a), ...pageErrors(b)]).toEqual([]);
    });

    it('shows every field and a countdown, queues offers, and answers with the buttons', async () => {
      const server = await serve();
      const page = await openApp(server, 101);
      await status(page, 'Connected');
      const first = await post(server, '/api/admin/shifts', {
        ...SHIFT,
        offer_to: [101],
        ttl_seconds: 600,
      });
      const second = await post(server, '/api/test/send_offer/101?shift_id=4242', {});
      expect(second.status).toBe(200);
      const offer = dialog(page);
      await offer.getByText(/^in (9|10):\d\d, at /).waitFor();
      await offer.getByText('1 more offer waiting').waitFor();

      expect(await seriousViolations(page)).toEqual([]);

      await offer.getByRole('button', { name: /^Reject/ }).click();
      await notice(page, first.body.shift.id)
        .getByText(/You turned down shift/)
        .waitFor();
      // The next offer in the queue takes the dialog.
      await offer.getByText('4242', { exact: true }).waitFor();
      await page.keyboard.press('r');
      await notice(page, 4242).and(page.locator('[data-status="rejected"]')).waitFor();
      await offer.waitFor({ state: 'hidden' });
      await page.locator('.history li[data-shift="4242"]').waitFor();

      expect(await seriousViolations(page)).toEqual([]);
      expect(pageErrors(page)).toEqual([]);
    });

    it('keeps a long name without spaces inside the width of a phone', async () => {
      const server = await serve();
      const page = await openApp(server, 101);
      await status(page, 'Connected');
      const long = `Maple${'Grove'.repeat(50)}CareHome`;
      const created = await post(server, '/api/admin/shifts', {
        ...SHIFT,
        location_name: long,
        client_name: long,
        offer_to: [101],
      });
      const shiftId: number = created.body.shift.id;
      const overflow = () => page.evaluate('document.documentElement.scrollWidth - innerWidth');
      await dialog(page).getByText(long).first().waitFor();
      expect(await overflow()).toBe(0);
      await page.keyboard.press('r');
      await page.locator(`.history li[data-shift="${shiftId}"]`).getByText(long).waitFor();
      await notice(page, shiftId).waitFor();
      // The history's row and the notice wrapped the name; nothing scrolls sideways.
      expect(await overflow()).toBe(0);
    });

    it('marks an urgent offer and puts it ahead of the normal ones waiting', async () => {
      const server = await serve();
      const page = await openApp(server, 101);
      await status(page, 'Connected');
      await post(server, '/api/test/send_offer/101?shift_id=4301', {});
      const offer = dialog(page);
      await offer.getByText('4301', { exact: true }).waitFor();
      await post(server, '/api/test/send_offer/101?shift_id=4302', {});
      await post(server, '/api/test/send_offer/101?shift_id=4303', { priority: 'urgent' });
      await offer.getByText('2 more offers waiting').waitFor();
      // The dialog keeps the offer it shows; the urgent one is next, marked in words.
      expect(await offer.getByText('Urgent').count()).toBe(0);
      await page.keyboard.press('r');
      await offer.getByText('4303', { exact: true }).waitFor();
      await offer.getByRole('heading', { name: 'Urgent New shift offer' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.keyboard.press('a');
      await offer.getByText('4302', { exact: true }).waitFor();
      expect(await offer.getByText('Urgent').count()).toBe(0);
      await page
        .locator('.history li[data-shift="4303"]')
        .getByText('Urgent', { exact: true })
        .waitFor();
      expect(pageErrors(page)).toEqual([]);
    });

    it('moves a cascade from tab to tab when one rejects', async () => {
      const server = await serve();
      const [a, b] = await Promise.all([openApp(server, 101), openApp(server, 102)]);
      await Promise.all([status(a, 'Connected'), status(b, 'Connected')]);
      const created = await post(server, '/api/admin/shifts', {
        ...SHIFT,
        mode: 'cascade',
        offer_to: [101, 102],
      });
      const shiftId: number = created.body.shift.id;
      await dialog(a).waitFor();
      expect(await dialog(b).isVisible()).toBe(false);

      await dialog(a)
        .getByRole('button', { name: /^Reject/ })
        .click();
      await notice(a, shiftId).and(a.locator('[data-status="rejected"]')).waitFor();
      await dialog(b).getByText(String(shiftId), { exact: true }).waitFor();
      await dialog(b)
        .getByRole('button', { name: /^Accept/ })
        .click();
      await notice(b, shiftId).getByText(`Shift ${shiftId} is yours.`).waitFor();
    });

    it('an offer_result push closes the dialog and says what happened', async () => {
      const server = await serve();
      const page = await openApp(server, 101);
      await status(page, 'Connected');
      const created = await post(server, '/api/admin/shifts', { ...SHIFT, offer_to: [101] });
      const shiftId: number = created.body.shift.id;
      await dialog(page).waitFor();
      expect((await post(server, `/api/admin/shifts/${shiftId}/withdraw`)).status).toBe(200);
      await dialog(page).waitFor({ state: 'hidden' });
      await notice(page, shiftId).getByText(`Shift ${shiftId} was withdrawn.`).waitFor();
    });

    it('rides out a server restart on the reconnect schedule and recovers an offer sent meanwhile', async () => {
      const db = join(suite.tempDir(), 'shifts.db');
      const first = await startServer({ db });
      const page = await openApp(first, 101);
      await status(page, 'Connected');
      const shown = await recordTexts(page, '[role="status"]');

      await first.close();
      // The first attempt finds nothing listening: the schedule moves on to 4 s.
      await shown.seen([
        'Disconnected: reconnecting in 2 s (attempt 1 of 10)',
        'Disconnected: reconnecting in 4 s (attempt 2 of 10)',
      ]);

      const second = await serve({ db, port: first.port });
      const sent = await post(second, '/api/test/send_offer/101?shift_id=777', {});
      expect(sent.body.status).toBe('pending');

      // Attempt 2 comes 4 s after the first failed; a slow start may push it to attempt 3.
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
      await dialog(page).getByText('777', { exact: true }).waitFor();
    }, 45_000);

    it('with a secret, does nothing without a token and works once one is entered', async () => {
      const secret = 'web-page-secret-0123456789abcdef';
      let logged = '';
      const sink = { write: (chunk: string) => (logged += chunk) };
      const server = await serve({
        secret,
        log: createLogger({ format: 'json', out: sink, err: sink }),
      });
      const admin = await signToken({ role: 'admin' }, secret, 3600);
      const mine = await signToken({ emp_id: 101, role: 'employee' }, secret, 3600);
      const theirs = await signToken({ emp_id: 102, role: 'employee' }, secret, 3600);

      const page = await openApp(server, 101);
      const calls: string[] = [];
      page.on('request', (req) => calls.push(new URL(req.url()).pathname));
      page.on('websocket', (ws) => calls.push(new URL(ws.url()).pathname));
      const field = page.getByLabel('Employee token');
      await field.waitFor();
      expect(await page.evaluate('document.activeElement?.id')).toBe('token');
      expect(calls).toEqual([]);
      expect(await seriousViolations(page)).toEqual([]);

      // Another employee's token is refused, and the page asks again.
      await signInAfterRefusal(page, 'Employee token', theirs, mine);
      await status(page, 'Connected');
      expect(page.url()).toBe(`${server.url}/app/101`);

      const created = await http(
        server,
        'POST',
        '/api/admin/shifts',
        { ...SHIFT, offer_to: [101] },
        { headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` } },
      );
      expect(created.status).toBe(201);
      await dialog(page).waitFor();
      await page.keyboard.press('a');
      await notice(page, created.body.shift.id)
        .and(page.locator('[data-status="assigned"]'))
        .waitFor();

      // The token was kept in this tab, and never written to the log or the journal.
      expect(await page.evaluate("sessionStorage.getItem('shiftctl.token.101')")).toBe(mine);
      const journal = await http(server, 'GET', '/api/admin/journal?limit=10000', undefined, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(journal.status).toBe(200);
      for (const token of [mine, theirs]) {
        expect(logged).not.toContain(token);
        expect(JSON.stringify(journal.body)).not.toContain(token);
      }
    });
  },
);

describe('serving the pages (no browser needed)', () => {
  const servers: ShiftServer[] = [];
  beforeAll(assertPagesBuilt);
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('answers /app/{emp_id} with a strict CSP, and a bad id per Accept', async () => {
    const server = await startServer();
    servers.push(server);
    const res = await fetch(`${server.url}/app/101`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<style|style=/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
    const asset = await fetch(`${server.url}${script}`);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');

    const bad = await fetch(`${server.url}/app/abc`, { headers: { accept: 'text/html' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('must be a positive integer');
    const badJson = await get(server, '/app/0');
    expect(badJson.status).toBe(400);
    expect(badJson.body.code).toBe('E_INVALID_PARAM');

    const index = await fetch(`${server.url}/`, { headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(index.headers.get('content-type')).toMatch(/html/);
    expect(await index.text()).toContain('<div id="dashboard"');
    expect((await get(server, '/')).body.app).toBe('/app/{emp_id}');
  });
});
