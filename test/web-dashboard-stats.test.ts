/**
 * The dashboard's stats panel, priorities and push tokens in a real Chromium against a real
 * server: figures worked out by hand for a small day (a manual clock times the answers), the
 * grouping and the window changing the tables, an answer made through the API updating the
 * panel without a reload; an urgent shift made from the forms marked "Urgent"; a push token
 * registered from the form listed and deleted. axe finds no serious violation; the keyboard
 * does it all. A larger day takes the README's stats screenshot (SHIFTCTL_SCREENSHOTS).
 */
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEMO_FIXTURES_PATH, readFixtures } from '../src/fixtures.js';
import type { ShiftServer } from '../src/server/create-server.js';
import {
  browserSuite,
  findChromium,
  keepScreenshot,
  pageErrors,
  seriousViolations,
} from './browser.js';
import { connect, get, http, manualClock, post, respond, waitForDevices } from './helpers.js';

const CHROMIUM = findChromium();

describe.skipIf(!CHROMIUM)(
  CHROMIUM
    ? "the dashboard's stats, priorities and push tokens in Chromium"
    : "the dashboard's stats, priorities and push tokens in Chromium (skipped: no chromium found)",
  { timeout: 30_000 },
  () => {
    const suite = browserSuite(CHROMIUM as string, 'shiftctl-dashboard-stats-');
    const { serve, tempDir } = suite;

    const demoServer = async (options: Parameters<typeof serve>[0] = {}) => {
      const demo = await readFixtures(DEMO_FIXTURES_PATH);
      return serve({ fixtures: { ...demo, shifts: [] }, ...options });
    };
    const openDashboard = async (server: ShiftServer) => {
      const page = await suite.open(`${server.url}/`, { width: 1280, height: 900 });
      await page.locator('#stream-status').filter({ hasText: 'Live' }).waitFor();
      return page;
    };
    const notice = (page: Page, text: string | RegExp) =>
      page.locator('#notice').getByText(text).waitFor();
    /** Waits until the element's whole text is `text`. */
    const shows = (locator: Locator, text: string) =>
      locator
        .filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) })
        .waitFor();
    const cell = (page: Page, table: string, key: string, col: string) =>
      page.locator(`table.${table} tr[data-key="${key}"] [data-col="${col}"]`);
    const rowKeys = (page: Page, table: string) =>
      page.locator(`table.${table} tbody tr`).evaluateAll((rows) => rows.map((r) => r.dataset.key));
    const shift = (id: number, location: string, offerTo: number[]) => ({
      id,
      date: '2026-01-15',
      start_time: '08:00',
      end_time: '16:00',
      location_name: location,
      client_name: 'Margaret Chen',
      service_type: 'Personal Care',
      offer_to: offerTo,
    });

    it('shows figures worked out by hand, groups them, and follows an answer made through the API', async () => {
      const clock = manualClock(Date.parse('2026-01-14T15:30:00.000Z'));
      const server = await demoServer({ clock });
      // 2 offers sent; 101 accepts after 30 s and fills the shift (102 never answers).
      expect(
        (await post(server, '/api/admin/shifts', shift(501, 'Maple Grove', [101, 102]))).status,
      ).toBe(201);
      clock.advance(30_000);
      expect((await respond(server, 101, 501, 'accepted')).status).toBe(200);

      const board = await openDashboard(server);
      const stats = board.getByRole('region', { name: 'Stats' });
      await stats.scrollIntoViewIfNeeded();
      await shows(cell(board, 'stats-offers', 'total', 'sent'), '2');
      await shows(cell(board, 'stats-offers', 'total', 'delivered'), '0');
      await shows(cell(board, 'stats-offers', 'total', 'answered'), '1');
      await shows(cell(board, 'stats-offers', 'total', 'accepted'), '1');
      await shows(cell(board, 'stats-offers', 'total', 'rejected'), '0');
      await shows(cell(board, 'stats-offers', 'total', 'response_rate'), '50.0%');
      await shows(cell(board, 'stats-offers', 'total', 'response_median'), '30.0 s');
      await shows(cell(board, 'stats-shifts', 'total', 'offered'), '1');
      await shows(cell(board, 'stats-shifts', 'total', 'filled'), '1');
      await shows(cell(board, 'stats-shifts', 'total', 'fill_rate'), '100.0%');
      await shows(cell(board, 'stats-shifts', 'total', 'first_accept_median'), '30.0 s');
      await shows(cell(board, 'stats-shifts', 'total', 'fill_p90'), '30.0 s');
      await shows(board.locator('table.stats-times tr[data-key="answer"] td').first(), '30.0 s');
      await shows(stats.locator('dd[data-figure="fill_rate"]'), '100.0%');
      // Each chart is drawn (uPlot's canvas), hidden from screen readers beside its table.
      for (const chart of ['offers', 'shifts', 'times']) {
        await stats.locator(`[data-chart="${chart}"] canvas`).first().waitFor();
        expect(
          await stats.locator(`[data-chart="${chart}"] .chart-canvas`).getAttribute('aria-hidden'),
        ).toBe('true');
      }
      expect(await rowKeys(board, 'stats-offers')).toEqual(['total']);
      expect(await seriousViolations(board)).toEqual([]);

      // The charts are drawn again below; anything the page's CSP refuses meanwhile is caught.
      await board.evaluate(
        "window.refused = []; document.addEventListener('securitypolicyviolation', (e) => window.refused.push(e.violatedDirective))",
      );

      // By location, chosen from the keyboard: a row per location, then the total.
      await board.getByLabel('By', { exact: true }).focus();
      await board.keyboard.press('ArrowDown');
      await shows(cell(board, 'stats-offers', 'Maple Grove', 'sent'), '2');
      expect(await rowKeys(board, 'stats-offers')).toEqual(['Maple Grove', 'total']);
      await stats.locator('[data-chart="rates"] canvas').first().waitFor();
      await board.evaluate('window.notReloaded = true');

      // A second shift, at Elm House, rejected after 60 s through the API: the panel follows.
      expect((await post(server, '/api/admin/shifts', shift(502, 'Elm House', [103]))).status).toBe(
        201,
      );
      clock.advance(60_000);
      expect((await respond(server, 103, 502, 'rejected')).status).toBe(200);
      await shows(cell(board, 'stats-offers', 'Elm House', 'rejected'), '1');
      await shows(cell(board, 'stats-offers', 'total', 'sent'), '3');
      await shows(cell(board, 'stats-offers', 'total', 'answered'), '2');
      await shows(cell(board, 'stats-offers', 'total', 'response_rate'), '66.7%');
      // The median of 30 s and 60 s; the p90 interpolated: 30 + 0.9 × 30.
      await shows(cell(board, 'stats-offers', 'total', 'response_median'), '45.0 s');
      await shows(cell(board, 'stats-offers', 'total', 'response_p90'), '57.0 s');
      await shows(cell(board, 'stats-shifts', 'Elm House', 'unfilled'), '1');
      await shows(cell(board, 'stats-shifts', 'total', 'fill_rate'), '50.0%');
      await shows(stats.locator('dd[data-figure="unfilled"]'), '1');
      expect(await board.evaluate('window.notReloaded')).toBe(true);

      // By employee: each one's answers and speed, with their name; no shift rows but the total.
      await board.getByLabel('By', { exact: true }).selectOption('employee');
      await shows(cell(board, 'stats-offers', '103', 'response_median'), '1 m 00 s');
      expect(await rowKeys(board, 'stats-offers')).toEqual(['101', '102', '103', 'total']);
      await stats
        .locator('table.stats-offers tr[data-key="101"]')
        .getByText('Amara Okafor')
        .waitFor();
      await shows(cell(board, 'stats-offers', '101', 'accepted'), '1');
      await shows(cell(board, 'stats-offers', '102', 'response_rate'), '0.0%');
      expect(await rowKeys(board, 'stats-shifts')).toEqual(['total']);

      // A window after the offers were sent: nothing in it.
      await board.getByLabel('From').fill('2026-01-15');
      await shows(cell(board, 'stats-offers', 'total', 'sent'), '0');
      expect(await rowKeys(board, 'stats-offers')).toEqual(['total']);
      expect(await seriousViolations(board)).toEqual([]);
      // A window that ends before it starts: the server's reason, and the last figures kept.
      await board.getByLabel('To (included)').fill('2026-01-14');
      await stats
        .getByRole('alert')
        .getByText('Could not load the stats: Invalid query: to: must be after from')
        .waitFor();
      await shows(cell(board, 'stats-offers', 'total', 'sent'), '0');
      await board.getByLabel('To (included)').fill('');
      await stats.getByRole('alert').waitFor({ state: 'detached' });

      // uPlot drew under the page's CSP (style-src 'self'): nothing refused, no console error
      // (but Chromium's own line for the refused window's 400).
      expect(await board.evaluate('window.refused')).toEqual([]);
      expect(pageErrors(board).filter((e) => !/status of 400/.test(e))).toEqual([]);
    }, 45_000);

    it('makes urgent shifts from the forms and marks them "Urgent" in the lists', async () => {
      const server = await demoServer();
      const board = await openDashboard(server);
      const create = board.getByRole('region', { name: 'Create a shift' });
      await create.getByLabel('Offer to (employee ids)').fill('101');
      await create.getByLabel('Priority').selectOption('urgent');
      await create.getByRole('button', { name: 'Create shift' }).click();
      await notice(board, /^Created shift \d+, offered to 101 \(pending\)\.$/);
      const text = (await board.locator('#notice').textContent()) ?? '';
      const urgentId = Number(/Created shift (\d+)/.exec(text)?.[1]);
      expect((await get(server, `/api/admin/shifts/${urgentId}`)).body.priority).toBe('urgent');
      const urgentRow = board.locator(`tr[data-shift="${urgentId}"]`);
      await urgentRow.getByText('Urgent', { exact: true }).waitFor();
      // The employee holding it: the offer is marked too, in words.
      await board
        .locator('tr[data-emp="101"] [data-col="pending"]')
        .filter({ hasText: `${urgentId} Urgent` })
        .waitFor();
      // The shift's own panel (it is the one selected) says so as well.
      await board
        .getByRole('heading', { name: new RegExp(`^Shift ${urgentId}.*Urgent$`) })
        .waitFor();

      // A normal one is not marked.
      await create.getByLabel('Offer to (employee ids)').fill('102');
      await create.getByLabel('Priority').selectOption('normal');
      await create.getByRole('button', { name: 'Create shift' }).click();
      await notice(board, /^Created shift \d+, offered to 102 \(pending\)\.$/);
      const normalId = Number(
        /Created shift (\d+)/.exec((await board.locator('#notice').textContent()) ?? '')?.[1],
      );
      const normalRow = board.locator(`tr[data-shift="${normalId}"]`);
      await normalRow.waitFor();
      expect(await normalRow.getByText('Urgent').count()).toBe(0);
      expect(await normalRow.getAttribute('data-priority')).toBe('normal');

      // The test offer, urgent, from the keyboard.
      const send = board.getByRole('region', { name: 'Send the test offer' });
      await send.getByLabel('Employee id').fill('103');
      await send.getByLabel('Shift id').fill('998');
      await send.getByLabel('Priority').focus();
      await board.keyboard.press('ArrowDown');
      await board.keyboard.press('ArrowDown');
      await board.keyboard.press('Tab');
      await board.keyboard.press('Enter');
      await notice(board, 'Shift 998 offered to employee 103: pending (0 devices).');
      await board.locator('tr[data-shift="998"]').getByText('Urgent', { exact: true }).waitFor();
      expect((await get(server, '/api/admin/shifts/998')).body.priority).toBe('urgent');
      expect(await seriousViolations(board)).toEqual([]);
      expect(pageErrors(board)).toEqual([]);
    });

    it("lists an employee's push tokens, registers one from the form and deletes it", async () => {
      const server = await demoServer();
      const board = await openDashboard(server);
      const token = 'fGx3kZ0pR1eXample:APA91bH-EXAMPLE';
      await board.getByRole('button', { name: 'Push tokens of employee 101' }).click();
      const panel = board.getByRole('region', { name: 'Employee 101: push tokens' });
      await panel.getByText('No push token registered.').waitFor();

      // From the keyboard: type the token, Tab to the platform, choose, Enter.
      await panel.getByLabel('Push token', { exact: true }).focus();
      await board.keyboard.type(token);
      await board.keyboard.press('Tab');
      expect(await board.evaluate('document.activeElement?.id')).toBe('device-platform');
      await board.keyboard.press('ArrowDown');
      await board.keyboard.press('Tab');
      await board.keyboard.press('Enter');
      await notice(board, 'Push token fGx3kZ0p…XAMPLE (ios) registered for employee 101.');
      const row = panel.locator(`tr[data-token="${token}"]`);
      await row.getByText('ios', { exact: true }).waitFor();
      await row.getByText('fGx3kZ0p…XAMPLE', { exact: true }).waitFor();
      expect(await panel.getByLabel('Push token', { exact: true }).inputValue()).toBe('');
      const listed = await get(server, '/api/devices/101');
      expect(listed.body).toEqual([expect.objectContaining({ token, platform: 'ios' })]);

      // One registered by the phone itself shows up without a reload.
      const other = 'c0ffee00c0ffee00c0ffee00c0ffee00';
      expect(
        (await post(server, '/api/devices/101', { token: other, platform: 'android' })).status,
      ).toBe(200);
      await panel.locator(`tr[data-token="${other}"]`).getByText('android').waitFor();

      // A token the server refuses: its reason, and nothing registered.
      await panel.getByLabel('Push token', { exact: true }).fill('has a space');
      await panel.getByRole('button', { name: 'Register token' }).click();
      await notice(board, /^Register the push token: .*token.*printable ASCII without spaces/);
      expect((await get(server, '/api/devices/101')).body).toHaveLength(2);
      expect(await panel.getByLabel('Push token', { exact: true }).inputValue()).toBe(
        'has a space',
      );
      expect(await seriousViolations(board)).toEqual([]);

      // Deleted from the keyboard.
      await panel.getByRole('button', { name: 'Delete push token fGx3kZ0p…XAMPLE' }).focus();
      await board.keyboard.press('Enter');
      await notice(board, 'Push token fGx3kZ0p…XAMPLE of employee 101 deleted.');
      await row.waitFor({ state: 'detached' });
      expect((await get(server, '/api/devices/101')).body).toEqual([
        expect.objectContaining({ token: other }),
      ]);
      const gone = await http(server, 'DELETE', `/api/devices/101/${encodeURIComponent(token)}`);
      expect(gone.body.deleted).toBe(false);
      // Chromium logs the refused token's 400 itself; nothing else may show up.
      expect(pageErrors(board).filter((e) => !/status of 400/.test(e))).toEqual([]);
    });

    it('shows a larger day, by location (the README screenshot)', async () => {
      const clock = manualClock(Date.parse('2026-11-30T06:00:00.000Z'));
      const server = await demoServer({ clock });
      // Phones connected for 101-108: their offers are delivered; 109-112's are not.
      for (let emp = 101; emp <= 108; emp++) await connect(server, emp);
      await waitForDevices(server, 108, 1);
      // Three places, 4 shifts each, 3 offers a shift. The second employee rejects, then the
      // first accepts, except in every 4th shift, where all three reject (unfilled); answers
      // come 20 s to several minutes after the offers.
      const places = ['Maple Grove Care Home', 'Elm House', '14 Elm Street, Springfield'];
      let id = 600;
      for (let round = 0; round < 4; round++) {
        for (const [p, place] of places.entries()) {
          id++;
          const offerTo = [101 + ((round + p) % 6), 107 + ((round * 2 + p) % 5), 112];
          const [first, second, third] = offerTo as [number, number, number];
          const created = await post(server, '/api/admin/shifts', shift(id, place, offerTo));
          expect(created.status).toBe(201);
          clock.advance((20 + 40 * round + 25 * p) * 1000);
          expect((await respond(server, second, id, 'rejected')).status).toBe(200);
          clock.advance((15 + 70 * p + 50 * round) * 1000);
          const unfilled = (round + p) % 4 === 3;
          expect(
            (await respond(server, first, id, unfilled ? 'rejected' : 'accepted')).status,
          ).toBe(200);
          if (unfilled) expect((await respond(server, third, id, 'rejected')).status).toBe(200);
          clock.advance(30_000);
        }
      }
      // And one withdrawn before anyone answered.
      expect(
        (await post(server, '/api/admin/shifts', shift(700, 'Elm House', [104, 105]))).status,
      ).toBe(201);
      expect((await post(server, '/api/admin/shifts/700/withdraw')).status).toBe(200);

      const board = await openDashboard(server);
      await board.getByLabel('By', { exact: true }).selectOption('location');
      await shows(cell(board, 'stats-offers', 'total', 'sent'), '38');
      await shows(cell(board, 'stats-shifts', 'Elm House', 'offered'), '5');
      await shows(cell(board, 'stats-shifts', 'total', 'unfilled'), '3');
      await shows(cell(board, 'stats-shifts', 'total', 'withdrawn'), '1');
      await shows(cell(board, 'stats-shifts', 'total', 'filled'), '9');
      const stats = board.getByRole('region', { name: 'Stats' });
      await stats.locator('[data-chart="rates"] canvas').first().waitFor();
      expect(await seriousViolations(board)).toEqual([]);
      // The whole page's picture, cut to the panel: the sticky header stays out of it.
      const box = await stats.boundingBox();
      const scrollY = Number(await board.evaluate('window.scrollY'));
      if (!box) throw new Error('the stats panel has no box');
      const clip = {
        x: box.x - 8,
        y: box.y + scrollY - 8,
        width: box.width + 16,
        height: box.height + 16,
      };
      keepScreenshot(
        tempDir(),
        'dashboard-stats.png',
        await board.screenshot({ type: 'png', fullPage: true, clip }),
      );
      expect(pageErrors(board)).toEqual([]);
    });
  },
);
