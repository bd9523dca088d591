/** `shiftctl listen` as a person uses it: the real binary in a pseudo-terminal, a real server. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShiftServer } from '../src/server/create-server.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { Cli, PtyCli } from './cli-harness.js';
import { get, post, respond, startServer, waitForDevices } from './helpers.js';

let servers: ShiftServer[] = [];
async function server(options = {}): Promise<ShiftServer> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

function listen(s: { url: string }, empId: number, ...args: string[]) {
  return new PtyCli(['listen', String(empId), '--url', s.url, ...args]);
}

const PROMPT = /Shift (\d+):\s+a accept\s+r reject\s+s skip/;

/** A shift offered to several employees in one call (times default to a day shift). */
function offerShift(s: { url: string }, id: number, offerTo: number[], times = ['08:00', '16:00']) {
  return post(s, '/api/admin/shifts', {
    id,
    date: '2026-03-01',
    start_time: times[0],
    end_time: times[1],
    offer_to: offerTo,
  });
}

describe('listen at a terminal', () => {
  it('shows a pending offer as a card, and a accepts it', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/123?shift_id=456');
    const term = listen(s, 123);
    await term.waitFor('┌─ Shift 456');
    await term.waitFor('Tue 20 Jan 2026  09:00-17:00 (8 h)');
    await term.waitFor('Outreach Center');
    await term.waitFor('Test Client');
    await term.waitFor(PROMPT);
    term.type('a');
    await term.waitFor('✔ Shift 456 is yours: assigned.');
    const shift = await get(s, '/api/admin/shifts/456');
    expect(shift.body).toMatchObject({ status: 'assigned', assigned_to: [123] });
  });

  it('r rejects, and the next queued offer comes up with the count of those waiting', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/7?shift_id=1');
    const term = listen(s, 7);
    await term.waitFor(PROMPT);
    await term.waitFor('● connected');
    await post(s, '/api/test/send_offer/7?shift_id=2');
    await term.waitFor('+ new offer: shift 2 (1 waiting)');
    await term.waitFor('1 more waiting');
    term.type('r');
    await term.waitFor('✓ Rejected shift 1.');
    await term.waitFor('┌─ Shift 2');
    const history = await get(s, '/api/shift_offers/history/7');
    expect(history.body.find((o: { shift_id: number }) => o.shift_id === 1)).toMatchObject({
      response: 'rejected',
      outcome: 'rejected',
    });
  });

  it("drops a second listener's open prompt when the first wins the shift", async () => {
    const s = await server();
    await offerShift(s, 60, [1, 2], ['22:00', '07:00']);
    const first = listen(s, 1);
    const second = listen(s, 2);
    await first.waitFor(PROMPT);
    await second.waitFor(PROMPT);
    await second.waitFor('22:00-07:00 (9 h, overnight)');
    await second.waitFor('● connected');
    first.type('a');
    await first.waitFor('✔ Shift 60 is yours: assigned.');
    await second.waitFor('✖ Shift 60 was taken by someone else; dropped.');
    expect((await get(s, '/api/shift_offers/pending/2')).body).toEqual([]);
  });

  it("closes the prompt when the employee's other device answers, and says what it did", async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/12?shift_id=5201');
    await post(s, '/api/test/send_offer/12?shift_id=5202');
    const term = listen(s, 12);
    await term.waitFor(PROMPT);
    await term.waitFor('● connected');
    await respond(s, 12, 5201, 'rejected'); // the phone, while the terminal asks
    await term.waitFor('✖ Shift 5201 was rejected on another device; dropped.');
    await term.waitFor('┌─ Shift 5202');
    await respond(s, 12, 5202, 'accepted');
    await term.waitFor('✖ Shift 5202 is yours: accepted on another device; dropped.');
    term.type('\u0003');
    expect((await term.waitExit()).code).toBe(0);
  });

  it('shows the card again when the shift it asks about changes', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/14?shift_id=800', { date: '2026-05-04' });
    const term = listen(s, 14);
    await term.waitFor('Mon 4 May 2026');
    await term.waitFor(PROMPT);
    await term.waitFor('● connected');
    // Offered to someone else with a new date: the holder's card is stale.
    await post(s, '/api/test/send_offer/15?shift_id=800', { date: '2026-05-05' });
    await term.waitFor('↻ Shift 800 changed; its card is shown again.');
    await term.waitFor('Tue 5 May 2026');
    term.type('a');
    await term.waitFor('✔ Shift 800 is yours: assigned.');
    term.type('\u0003');
    expect((await term.waitExit()).code).toBe(0);
  });

  it('moves an urgent offer ahead of the normal ones waiting, marks its card and rings three times', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/21?shift_id=901');
    const term = listen(s, 21);
    await term.waitFor(PROMPT);
    await term.waitFor('● connected');
    await term.waitUntil(() => term.bells === 1, 'one bell for the first offer');
    await post(s, '/api/test/send_offer/21?shift_id=902');
    await term.waitFor('+ new offer: shift 902 (1 waiting)');
    await term.waitUntil(() => term.bells === 2, 'one bell for a normal offer');
    await post(s, '/api/test/send_offer/21?shift_id=903', { priority: 'urgent' });
    await term.waitFor('+ new URGENT offer: shift 903, moved ahead of 1 (2 waiting)');
    await term.waitUntil(() => term.bells === 5, 'three bells for an urgent offer');
    term.type('r'); // shift 901, at the prompt all along
    await term.waitFor('✓ Rejected shift 901.');
    // The urgent shift comes next, marked: white on red at a terminal.
    await term.waitFor(/┌─ Shift 903 ─ URGENT ─+\n/);
    await term.waitUntil(
      (raw) => raw.includes('\u001b[41m\u001b[37m\u001b[1m URGENT '),
      'the URGENT badge on red',
    );
    expect(term.screen).not.toContain('┌─ Shift 902'); // the normal one waits its turn
    term.type('a');
    await term.waitFor('✔ Shift 903 is yours: assigned.');
    await term.waitFor('┌─ Shift 902 ───');
    expect(term.count('URGENT ─')).toBe(1);
    term.type('\u0003');
    expect((await term.waitExit()).code).toBe(0);
  });

  it('wraps long details inside the card, at the width of the terminal', async () => {
    const s = await server();
    const description = `${'Medication round and handover notes for the night team. '.repeat(3)}End.`;
    await post(s, '/api/test/send_offer/16?shift_id=801', { description });
    const term = listen(s, 16);
    await term.waitFor(PROMPT);
    // 120 columns wide, the card stops at 80: the rest of the text continues under its label.
    await term.waitFor(/│ Details Medication round .{40,70}\n│ {9}\S/);
    await term.waitFor(/│ {9}.*End\./);
    term.type('\u0003');
    expect((await term.waitExit()).code).toBe(0);
  });

  it('s skips an offer and leaves it pending on the server', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/9?shift_id=5');
    const term = listen(s, 9, '--once');
    await term.waitFor(PROMPT);
    term.type('s');
    await term.waitFor('· Skipped shift 5; it stays pending.');
    expect((await term.waitExit()).code).toBe(0);
    expect((await get(s, '/api/shift_offers/pending/9')).body).toHaveLength(1);
  });

  it('lets keys typed while nothing is asked go: they never answer the next offer', async () => {
    const s = await server();
    const term = listen(s, 7);
    await term.waitFor('● connected');
    term.type('a');
    await term.waitFor('· no offer to answer yet: keys count once one is shown');
    await post(s, '/api/test/send_offer/7?shift_id=70');
    await term.waitFor(PROMPT);
    // Had the a been kept, the offer would be accepted already and r would do nothing.
    term.type('r');
    await term.waitFor('✓ Rejected shift 70.');
    expect((await get(s, '/api/shift_offers/history/7')).body[0]).toMatchObject({
      shift_id: 70,
      response: 'rejected',
    });
    term.type('\u0003');
    expect((await term.waitExit()).code).toBe(0);
  });

  it('drops an offer at its deadline even when the server cannot say so', async () => {
    const s = await startServer();
    const term = listen(s, 8);
    await term.waitFor('● connected');
    // Sent once listen is connected: its start, slow on a loaded machine, is not on the clock.
    await post(s, '/api/test/send_offer/8?shift_id=80&ttl_seconds=3');
    await term.waitFor(PROMPT);
    // Gone before its own expiry timer: only the client can close the prompt now.
    const closing = s.close();
    await term.waitFor('○ disconnected');
    await term.waitFor('✖ Shift 80 expired; dropped.');
    await closing;
    term.type('\u0003');
    expect((await term.waitExit()).code).toBe(0);
  });

  it('drops an offer that closed while it was disconnected, once it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-listen-'));
    try {
      const db = join(dir, 'offers.db');
      const first = await startServer({ db });
      await offerShift(first, 90, [9, 10]);
      const term = listen(first, 9);
      await term.waitFor(PROMPT);
      await term.waitFor('● connected');
      const closing = first.close();
      await term.waitFor('↻ reconnecting: retry 1/10');
      await closing;
      // Employee 10 wins it while 9 is away: nobody can tell 9's socket.
      const store = createSqliteStore({ path: db });
      expect(await store.claim(90, 10, Date.now())).toMatchObject({ outcome: 'assigned' });
      await store.close();
      const again = await server({ db, port: Number(new URL(first.url).port) });
      await term.waitFor('● connected again');
      await term.waitFor('✖ Shift 90 is no longer on offer (closed while disconnected); dropped.');
      expect((await get(again, '/api/shift_offers/history/9')).body[0]).toMatchObject({
        shift_id: 90,
        response: null,
        outcome: 'taken',
      });
      term.type('\u0003');
      expect((await term.waitExit()).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 0 on Ctrl-C at an open prompt, and on Ctrl-C while waiting', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/3?shift_id=5');
    const prompting = listen(s, 3);
    await prompting.waitFor(PROMPT);
    prompting.type('\u0003');
    expect((await prompting.waitExit()).code).toBe(0);

    const waiting = listen(s, 4);
    await waiting.waitFor('● connected');
    waiting.type('\u0003');
    expect((await waiting.waitExit()).code).toBe(0);
  });

  it('exits 0 on SIGTERM at an open prompt, leaving the terminal alone', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/3?shift_id=6');
    const term = listen(s, 3);
    await term.waitFor(PROMPT);
    // The aborted prompt settled after the session ended and put the keys back in raw mode,
    // holding the process open (a key then said "no offer to answer yet").
    term.signal('SIGTERM');
    expect(await term.waitExit()).toMatchObject({ code: 0 });
  });

  it('reconnects on the schedule and shows an offer made while it was away, once', async () => {
    const first = await startServer();
    const { port } = first;
    // Reconnect delays are scaled down 50 times: 2 s waits 40 ms, 8 s waits 160 ms.
    const term = new PtyCli(['listen', '5', '--url', first.url], { SHIFTCTL_TIME_SCALE: '0.02' });
    await term.waitFor('● connected');
    await first.close();
    await term.waitFor('○ disconnected (code 1001, server shutting down)');
    await term.waitFor('↻ reconnecting: retry 1/10 in 2 s');
    await term.waitFor('↻ reconnecting: retry 2/10 in 4 s');
    await term.waitFor('↻ reconnecting: retry 3/10 in 8 s');
    await term.waitFor('↻ reconnecting: retry 4/10 in 16 s');
    // The next attempt is 320 ms away: the offer is made before the client is back.
    const second = await server({ port });
    await post(second, '/api/test/send_offer/5?shift_id=77');
    await term.waitFor('● connected again; checking for missed offers');
    await term.waitFor('┌─ Shift 77');
    await term.waitFor(PROMPT);
    // Pushed on connect and listed by the pending call: shown once all the same.
    await get(second, '/api/shift_offers/pending/5');
    expect(term.count('┌─ Shift 77')).toBe(1);
  });

  it('gives up after --max-retries failed reconnects and exits 3', async () => {
    const gone = await startServer();
    await gone.close();
    const term = new PtyCli(['listen', '5', '--url', gone.url, '--max-retries', '2'], {
      SHIFTCTL_TIME_SCALE: '0.01',
    });
    await term.waitFor('retry 1/2 in 2 s');
    await term.waitFor('retry 2/2 in 4 s');
    await term.waitFor(/gave up after 2 retries \(connection refused\)/);
    expect((await term.waitExit()).code).toBe(3);
  });
});

describe('listen for scripts', () => {
  it('prints offers without prompting when stdin is not a terminal', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/8?shift_id=31');
    const cli = new Cli(['listen', '8', '--url', s.url, '--once']);
    const exit = await cli.done;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('┌─ Shift 31');
    expect(exit.stdout).not.toContain('a accept');
    expect(exit.stdout).not.toContain('\u001b[');
    expect((await get(s, '/api/shift_offers/pending/8')).body).toHaveLength(1);
  });

  it('says what became of a printed offer when someone else takes it', async () => {
    const s = await server();
    await offerShift(s, 32, [8, 9]);
    const cli = new Cli(['listen', '8', '--url', s.url]);
    await cli.line((l) => l.includes('┌─ Shift 32'), 'the card');
    await waitForDevices(s, 8, 1);
    await post(s, '/api/shift_offer/respond', { emp_id: 9, shift_id: 32, response: 'accepted' });
    await cli.line((l) => l === '✖ Shift 32 was taken by someone else.', 'the taken line');
    expect((await cli.stop('SIGINT')).code).toBe(0);
  });

  it('answers with --auto and prints one JSON object per event with --json', async () => {
    const s = await server();
    await post(s, '/api/test/send_offer/8?shift_id=32');
    const cli = new Cli(['listen', '8', '--url', s.url, '--auto', 'accept', '--json', '--once']);
    const exit = await cli.done;
    expect(exit.code).toBe(0);
    const events = exit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['offer', 'answer', 'outcome']),
    );
    expect(events.find((e) => e.event === 'offer')).toMatchObject({
      source: 'pending',
      offer: { type: 'shift_offer', shift_id: 32, date: '2026-01-20' },
    });
    expect(events.find((e) => e.event === 'outcome')).toMatchObject({
      shift_id: 32,
      assigned: true,
      outcome: 'assigned',
    });
    expect((await get(s, '/api/shift_offer/32/available')).body.available).toBe(false);
  });

  it('stages a race: two --auto listeners, one winner, the other told it was taken', async () => {
    const s = await server();
    const args = ['--url', s.url, '--auto', 'accept', '--json', '--once'];
    const racers = [new Cli(['listen', '1', ...args]), new Cli(['listen', '2', ...args])];
    await Promise.all(
      racers.map((r) => r.line((l) => l.includes('"state":"connected"'), 'connected')),
    );
    await post(s, '/api/admin/shifts', {
      id: 70,
      date: '2026-03-01',
      start_time: '08:00',
      end_time: '16:00',
      offer_to: [1, 2],
    });
    const exits = await Promise.all(racers.map((r) => r.done));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    const events = exits.map((r) =>
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    const won = events.filter((e) => e.some((x) => x.event === 'outcome' && x.assigned));
    expect(won).toHaveLength(1);
    // The loser either answered too late or heard it was taken before answering.
    const lost = events.filter((e) =>
      e.some(
        (x) =>
          (x.event === 'outcome' && x.outcome === 'taken') ||
          (x.event === 'dropped' && x.status === 'taken'),
      ),
    );
    expect(lost).toHaveLength(1);
  });
});
