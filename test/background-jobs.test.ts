/**
 * Work the server does on its own (deadlines, cascade steps, scenario steps) survives a failing
 * database: it is logged once, tried again with a backoff, and keeps its schedule.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Fanout, OfferEvent } from '../src/offers/ports.js';
import { retryDelayMs } from '../src/offers/retry.js';
import { createOfferService, TEST_OFFER } from '../src/offers/service.js';
import type { ServerMessage } from '../src/protocol/schemas.js';
import { parseScenario } from '../src/scenario.js';
import { createFaults } from '../src/server/faults.js';
import { createLogger } from '../src/server/log.js';
import { playScenario } from '../src/server/scenario-player.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/types.js';
import { Cli } from './cli-harness.js';
import { manualClock } from './helpers.js';

/** What better-sqlite3 throws when the disk is full. */
function diskFull(): Error {
  return Object.assign(new Error('database or disk is full'), {
    name: 'SqliteError',
    code: 'SQLITE_FULL',
  });
}

type Failures = Partial<Record<keyof Store, number>>;

/** A real store whose chosen methods throw `diskFull()` as many times as `failures` says. */
function failing(store: Store, failures: Failures): Store {
  return new Proxy(store, {
    get(target, name: keyof Store) {
      const value = target[name];
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const left = failures[name] ?? 0;
        if (left > 0) {
          failures[name] = left - 1;
          return Promise.reject(diskFull());
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

let stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
});

/** A service on a real in-memory store that fails as told, recording what it logs and pushes. */
function rig(failures: Failures) {
  const store = createSqliteStore({ path: ':memory:' });
  stores.push(store);
  const clock = manualClock();
  const events: OfferEvent[] = [];
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const pushed: Array<[number, ServerMessage]> = [];
  const fanout: Fanout = {
    async publish(empIds, message) {
      for (const empId of empIds) pushed.push([empId, message]);
      return empIds.map(() => 1);
    },
    async presence() {
      return new Map();
    },
  };
  const service = createOfferService({
    store: failing(store, failures),
    fanout,
    clock,
    events: {
      event: (e) => events.push(e),
      warn: (message, fields) => warnings.push({ message, fields }),
    },
  });
  return { service, clock, events, warnings, pushed };
}

describe('the retry schedule', () => {
  it('waits 1 s, doubling to 30 s at most', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(retryDelayMs)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe('the deadline timer, when its runs overlap', () => {
  it('tells the holders of an expired offer once, even when the timer fires during a run', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    stores.push(store);
    const clock = manualClock();
    const told: Array<[number, number]> = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fanout: Fanout = {
      async publish(empIds, message) {
        if (message.type === 'offer_result') {
          for (const empId of empIds) told.push([empId, message.shift_id]);
          await held; // a slow link: the run stays under way
        }
        return empIds.map(() => 1);
      },
      async presence() {
        return new Map();
      },
    };
    const service = createOfferService({
      store,
      fanout,
      clock,
      events: { event: () => {}, warn: () => {} },
    });
    await service.start();
    await service.createShift({ ...TEST_OFFER, id: 1, ttlSeconds: 60 }, [7]);
    await service.createShift({ ...TEST_OFFER, id: 2, ttlSeconds: 120 }, [8]);

    clock.advance(60_000); // shift 1's deadline: its run waits on the push
    await expect.poll(() => told.length).toBe(1);
    // The lease's renewal re-arms the timer meanwhile, and shift 2's deadline comes.
    service.lead(true);
    await expect.poll(() => clock.pending).toBe(1);
    clock.advance(60_000);
    // The store's writes settle (a second run at once would have closed shift 2 and told shift
    // 1's holder again by now), then the push goes through.
    await store.readJournal({ limit: 1 });
    release();
    await expect
      .poll(() => told)
      .toEqual([
        [7, 1],
        [8, 2],
      ]);
    service.stop();
  });
});

describe('the timer lease', () => {
  it('says when this instance starts and stops leading the timers, once each', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    stores.push(store);
    const said: string[] = [];
    const service = createOfferService({
      store,
      fanout: { publish: async (empIds) => empIds.map(() => 0), presence: async () => new Map() },
      clock: manualClock(),
      events: { event: (e) => said.push(e.event), warn: () => {} },
      deadlineWritten: () => {},
    });
    await service.start();
    service.lead(false);
    service.lead(true);
    service.lead(true);
    service.lead(false);
    service.lead(false);
    expect(said.filter((e) => e.includes('leading'))).toEqual([
      'leading_timers',
      'stopped_leading_timers',
    ]);
    service.stop();
  });
});

describe('the deadline timer, when the database fails', () => {
  it('logs once, retries with a backoff, closes the offer, and keeps its schedule', async () => {
    const failures: Failures = {};
    const { service, clock, events, warnings, pushed } = rig(failures);
    await service.start();
    await service.createShift({ ...TEST_OFFER, id: 1, ttlSeconds: 60 }, [7]);
    failures.expireDue = 2;

    clock.advance(60_000); // the deadline: the run fails
    await expect.poll(() => warnings.length).toBe(1);
    expect(warnings[0]?.message).toMatch(
      /^closing offers at their deadline and moving cascades on failed/,
    );
    expect(warnings[0]?.fields).toMatchObject({ code: 'SQLITE_FULL' });
    await expect.poll(() => clock.pending).toBe(1); // the retry, in 1 s
    clock.advance(1000); // fails again: no second warning
    await expect.poll(() => failures.expireDue === 0 && clock.pending === 1).toBe(true);
    clock.advance(1999);
    expect(events.some((e) => e.event === 'expired')).toBe(false); // the backoff doubled
    clock.advance(1);
    await expect
      .poll(() => pushed.find(([, m]) => m.type === 'offer_result'))
      .toEqual([7, { type: 'offer_result', shift_id: 1, status: 'expired' }]);
    expect(warnings).toHaveLength(1);
    await expect
      .poll(() => events.find((e) => e.event === 'recovered'))
      .toMatchObject({
        job: 'closing offers at their deadline and moving cascades on',
        failures: 2,
      });

    // Later deadlines still fire.
    await service.createShift({ ...TEST_OFFER, id: 2, ttlSeconds: 60 }, [8]);
    clock.advance(60_000);
    await expect
      .poll(() => events.find((e) => e.event === 'expired' && e.shift_id === 2))
      .toMatchObject({ emp_ids: [8] });
    service.stop();
  });

  it('moves a cascade on once the database works again', async () => {
    const failures: Failures = {};
    const { service, clock, pushed, warnings } = rig(failures);
    await service.start();
    await service.createShift({ ...TEST_OFFER, id: 3, mode: 'cascade', stepTtlS: 60 }, [7, 8]);
    expect(pushed.map(([empId, m]) => [empId, m.type])).toEqual([[7, 'shift_offer']]);
    failures.advanceCascade = 1;

    clock.advance(60_000); // 7's step expires, but asking 8 fails
    await expect.poll(() => warnings.length).toBe(1);
    expect(pushed.some(([empId]) => empId === 8)).toBe(false);
    await expect.poll(() => clock.pending).toBe(1);
    clock.advance(1000);
    await expect
      .poll(() => pushed.map(([empId, m]) => [empId, m.type]))
      .toEqual([
        [7, 'shift_offer'],
        [7, 'offer_result'],
        [8, 'shift_offer'],
      ]);
    service.stop();
  });
});

describe('a cascade, when moving on after an answer fails', () => {
  it('records the answer, and asks the next employee once the database works again', async () => {
    const failures: Failures = {};
    const { service, clock, pushed, warnings } = rig(failures);
    await service.start();
    await service.createShift({ ...TEST_OFFER, id: 4, mode: 'cascade' }, [7, 8]);
    failures.advanceCascade = 1;

    const answer = await service.respond({
      emp_id: 7,
      shift_id: 4,
      response: 'rejected',
      timestamp: '2026-01-14T15:30:00.000',
    });
    expect(answer).toMatchObject({ success: true, outcome: 'rejected' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ shift_id: 4, code: 'SQLITE_FULL' });
    expect(pushed.some(([empId]) => empId === 8)).toBe(false);
    expect(clock.pending).toBe(1);
    clock.advance(1000);
    await expect
      .poll(() => pushed.filter(([, m]) => m.type === 'shift_offer').map(([empId]) => empId))
      .toEqual([7, 8]);
    service.stop();
  });
});

describe('a scenario step, when the database fails', () => {
  it('is retried until it works, logged once, and the steps after it still play', async () => {
    const failures: Failures = { createShift: 2 };
    const { service, clock } = rig(failures);
    const lines: string[] = [];
    const sink = { write: (chunk: string) => lines.push(...chunk.trimEnd().split('\n')) };
    const log = createLogger({ format: 'json', out: sink, err: sink });
    const scenario = parseScenario(
      {
        name: 'full disk',
        steps: [
          { at: 1, create_shift: { ...TEST_OFFER, id: 5 } },
          { at: 2, offer: { shift_id: 5, emp_ids: [7] } },
        ],
      },
      'test',
    );
    const stop = playScenario(scenario, {
      service,
      faults: createFaults({}),
      fanout: { kick: async () => 0 },
      clock,
      log,
    });
    const logged = () => {
      log.flush();
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    clock.advance(2000);
    await expect.poll(() => failures.createShift === 1 && clock.pending === 1).toBe(true);
    clock.advance(1000);
    await expect.poll(() => failures.createShift === 0 && clock.pending === 1).toBe(true);
    clock.advance(2000);
    await expect
      .poll(() => logged().filter((l) => l.event === 'scenario_step'))
      .toMatchObject([
        { step: 1, did: 'created shift 5' },
        { step: 2, did: 'offered shift 5 to 7' },
      ]);
    const warnings = logged().filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ step: 1, code: 'SQLITE_FULL' });
    expect(logged().find((l) => l.event === 'recovered')).toMatchObject({ failures: 2 });
    stop();
  });
});

describe('serve, on an error nobody expected', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['an unhandled promise rejection', 'Promise.reject(new Error("injected failure"))'],
    ['an uncaught exception', 'setImmediate(() => { throw new Error("injected failure"); })'],
  ])('logs %s with its stack, then exits 1', async (what, code) => {
    dir = mkdtempSync(join(tmpdir(), 'shiftctl-fatal-'));
    // Loaded into the real binary; the failure comes on a signal, once the server is up.
    const inject = join(dir, 'inject.mjs');
    writeFileSync(inject, `process.on('SIGUSR2', () => { ${code}; });\n`);
    const cli = new Cli(['serve', '--port', '0', '--db', ':memory:', '--log-format', 'json'], {
      NODE_OPTIONS: `--import ${inject}`,
    });
    await cli.line((l) => l.includes('"event":"listening"'), 'the "listening" line');
    const exit = await cli.stop('SIGUSR2');
    expect(exit.code).toBe(1);
    const line = JSON.parse(exit.stderr.trimEnd().split('\n').at(-1) ?? '{}');
    expect(line).toMatchObject({ level: 'error' });
    expect(line.message).toBe(
      `${what === 'an uncaught exception' ? 'unexpected error' : 'unhandled promise rejection'}; the server stops`,
    );
    expect(line.error).toMatch(/^Error: injected failure\n {4}at /);
  });
});
