/**
 * What only the PostgreSQL store has to get right: several instances on one database (starting
 * together, racing each other's writes), migrations, fixtures loaded once, and a database that
 * fails or refuses a write. Runs when SHIFTCTL_TEST_POSTGRES names a database.
 */
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../src/store/postgres.js';
import { POSTGRES_SCHEMA_VERSION } from '../src/store/postgres-schema.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

const SHIFT = { date: '2026-01-20', start_time: '09:00', end_time: '17:00' };

/** Resolves once `check` holds, asking again every few milliseconds (for up to `ms`). */
async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.skipIf(postgresUrl === undefined)(
  'postgres store (set SHIFTCTL_TEST_POSTGRES to run)',
  () => {
    const schemas = testSchemas();
    let stores: PostgresStore[] = [];
    const open = async (schema: string, count: number) => {
      const opened = await Promise.all(Array.from({ length: count }, () => schemas.store(schema)));
      stores.push(...opened);
      return opened;
    };
    /** A plain connection to look at a schema from outside the store. */
    const inspect = (schema: string) =>
      postgres(postgresUrl ?? '', {
        max: 1,
        onnotice: () => {},
        connection: { search_path: schema },
      });
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      stores = [];
    });
    afterAll(() => schemas.dropAll());
    /** A store of its own whose log is kept, with shift 1 offered to employee 1. */
    const offeredWithLog = async () => {
      const logged: string[] = [];
      const store = await createPostgresStore({
        url: postgresUrl ?? '',
        schema: schemas.name(),
        log: (message) => logged.push(message),
      });
      stores.push(store);
      await store.createShift({ ...SHIFT, id: 1 }, 1000);
      await store.addOffers(1, [1], 1000, {});
      return { store, logged };
    };

    describe('several instances starting together', () => {
      it('migrate once, and each finds the tables ready', async () => {
        const schema = schemas.name();
        const five = await open(schema, 5);
        const sql = inspect(schema);
        try {
          const versions = await sql`SELECT version FROM shiftctl_migrations ORDER BY version`;
          expect(versions.map((v) => v.version)).toEqual(
            Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
          );
        } finally {
          await sql.end();
        }
        await five[0]?.createShift({ ...SHIFT, id: 1 }, 1000);
        expect(await five[4]?.getShift(1)).toMatchObject({ id: 1 });
      });

      it('load fixtures exactly once', async () => {
        const schema = schemas.name();
        const five = await open(schema, 5);
        const seed = {
          employees: [{ id: 1, name: 'Ana' }, { id: 2 }],
          shifts: [
            { ...SHIFT, id: 10, offerTo: [1, 2] },
            { ...SHIFT, id: 11 },
          ],
        };
        const loaded = await Promise.all(five.map((s) => s.seedIfEmpty(seed, 1000)));
        expect(loaded.filter(Boolean)).toHaveLength(1);
        expect((await five[1]?.listShifts({}))?.map((s) => [s.shift.id, s.offers.open])).toEqual([
          [10, 2],
          [11, 0],
        ]);
        expect(await five[2]?.employees()).toEqual([
          { empId: 1, name: 'Ana', pending: [10], assigned: [] },
          { empId: 2, name: null, pending: [10], assigned: [] },
        ]);
        expect(await five[3]?.seedIfEmpty(seed, 2000)).toBe(false);
      });
    });

    it('refuses a database migrated by a newer shiftctl', async () => {
      const schema = schemas.name();
      const [first] = await open(schema, 1);
      await first?.close();
      stores = [];
      const sql = inspect(schema);
      try {
        await sql`INSERT INTO shiftctl_migrations (version) VALUES (${POSTGRES_SCHEMA_VERSION + 1})`;
      } finally {
        await sql.end();
      }
      await expect(schemas.store(schema)).rejects.toMatchObject({
        code: 'E_DATABASE',
        message: expect.stringContaining('written by a newer shiftctl'),
      });
    });

    it('says which database it cannot reach, without its password', async () => {
      const err = await createPostgresStore({
        url: 'postgres://someone:secret@127.0.0.1:1/nowhere',
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_DATABASE' });
      expect((err as Error).message).toContain('127.0.0.1:1/nowhere');
      expect((err as Error).message).not.toContain('secret');
    });

    it('refuses a schema name that is not a plain identifier', async () => {
      await expect(
        createPostgresStore({ url: postgresUrl ?? '', schema: 'x"; DROP TABLE y; --' }),
      ).rejects.toMatchObject({ code: 'E_DATABASE' });
    });

    describe('instances racing on one shift', () => {
      it('give it to exactly its slots when 3 instances take 150 acceptances', async () => {
        const three = await open(schemas.name(), 3);
        const employees = Array.from({ length: 150 }, (_, i) => 1 + i);
        await three[0]?.createShift({ ...SHIFT, id: 1, slots: 2 }, 1000);
        await three[0]?.addOffers(1, employees, 1000, {});
        const results = await Promise.all(
          employees.map((e, i) => (three[i % 3] as PostgresStore).claim(1, e, 2000)),
        );
        const won = results.filter((r) => r.recorded && r.outcome === 'assigned');
        expect(won).toHaveLength(2);
        expect(results.filter((r) => r.recorded && r.outcome === 'taken')).toHaveLength(148);
        const offers = (await three[1]?.offersForShift(1)) ?? [];
        expect(offers.filter((o) => o.outcome === 'open')).toEqual([]);
      });

      it('leave no offer open on a shift filled while another instance offered it', async () => {
        const [a, b] = (await open(schemas.name(), 2)) as [PostgresStore, PostgresStore];
        const ids = Array.from({ length: 40 }, (_, i) => 1 + i);
        for (const id of ids) {
          await a.createShift({ ...SHIFT, id }, 1000);
          await a.addOffers(id, [1], 1000, {});
        }
        // Each shift's only slot is claimed on one instance while the other offers it to more.
        const results = await Promise.all(
          ids.map(async (id) => {
            const [, offered] = await Promise.all([
              a.claim(id, 1, 2000),
              b.addOffers(id, [2, 3, 4], 2000, {}),
            ]);
            return offered;
          }),
        );
        for (const [i, id] of ids.entries()) {
          const offers = await b.offersForShift(id);
          expect(offers.filter((o) => o.outcome === 'open')).toEqual([]);
          // Offered before the claim (then closed by it), or refused as assigned.
          const offered = results[i];
          if (offered?.offered) expect(offered.offers.map((o) => o.empId)).toEqual([2, 3, 4]);
          else expect(offered).toEqual({ offered: false, status: 'assigned' });
          expect(offers).toHaveLength(offered?.offered ? 4 : 1);
        }
      });

      it('create a shift ensured on 3 instances at once once, and write every offer of it', async () => {
        const three = await open(schemas.name(), 3);
        const employees = Array.from({ length: 30 }, (_, i) => 1 + i);
        const results = await Promise.all(
          employees.map((e, i) =>
            (three[i % 3] as PostgresStore).ensureShift({ ...SHIFT, id: 7 }, 1000 + e, {
              empIds: [e],
              expiresAt: null,
            }),
          ),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        for (const [i, r] of results.entries()) {
          expect(r.shift).toMatchObject({ id: 7, status: 'open' });
          expect(r.offers?.map((o) => [o.empId, o.sentAt])).toEqual([[i + 1, 1001 + i]]);
        }
        expect(
          (await three[0]?.offersForShift(7))?.map((o) => o.empId).sort((x, y) => x - y),
        ).toEqual(employees);
      });

      it('never deadlock, however their writes order the shifts', async () => {
        const schema = schemas.name();
        const [a, b] = (await open(schema, 2)) as [PostgresStore, PostgresStore];
        for (const id of [10, 20]) {
          await a.createShift({ ...SHIFT, id, slots: 2 }, 1000);
          await a.addOffers(id, [1, 2], 1000, {});
        }
        // A third session holds both shifts while each instance queues claims of them in
        // opposite orders; once it lets go, batches that locked in the order of their writes
        // would each hold one shift and wait for the other, until PostgreSQL's deadlock_timeout
        // (a second) broke the tie.
        const sql = postgres(postgresUrl ?? '', { max: 2, onnotice: () => {} });
        try {
          let claims: Promise<unknown> | undefined;
          let released = 0;
          await sql.begin(async (tx) => {
            await tx`SELECT 1 FROM ${tx(schema)}.shifts WHERE id IN (10, 20) FOR UPDATE`;
            claims = Promise.all([
              a.claim(20, 1, 2000),
              a.claim(10, 1, 2000),
              b.claim(10, 2, 2000),
              b.claim(20, 2, 2000),
            ]);
            await waitFor(async () => {
              const [row] = await sql`SELECT COUNT(*)::int AS n FROM pg_stat_activity
              WHERE application_name = ${`shiftctl/${schema}`} AND wait_event_type = 'Lock'`;
              return row?.n === 2;
            });
            released = performance.now();
          });
          const results = (await claims) as Array<{ outcome?: string }>;
          expect(results.map((r) => r.outcome)).toEqual([
            'assigned',
            'assigned',
            'assigned',
            'assigned',
          ]);
          expect(performance.now() - released).toBeLessThan(800);
        } finally {
          await sql.end();
        }
      });
    });

    it('writes what was queued before close, and refuses writes after it', async () => {
      const schema = schemas.name();
      const [first] = (await open(schema, 1)) as [PostgresStore];
      const line = { at: 1, kind: 'request' as const, empId: 1, shiftId: 1, outcome: '200' };
      const created = first.createShift({ ...SHIFT, id: 1 }, 1000);
      first.journal({ ...line, name: 'just before close', detail: null });
      await first.close();
      await expect(created).resolves.toMatchObject({ id: 1 });
      await expect(first.createShift({ ...SHIFT, id: 2 }, 1000)).rejects.toMatchObject({
        code: 'E_DATABASE',
      });
      first.journal({ ...line, name: 'after close', detail: null }); // dropped, never thrown
      const [second] = (await open(schema, 1)) as [PostgresStore];
      expect((await second.readJournal({ limit: 10 })).map((e) => e.name)).toEqual([
        'just before close',
      ]);
    });

    it('writes a batch of bookkeeping alone without a server warning (SET LOCAL outside BEGIN warned each time)', async () => {
      const { store, logged } = await offeredWithLog();
      // Delivery marks and journal lines alone: the batch turns synchronous_commit off for itself.
      store.markDelivered(1, [1], 1100);
      store.journal({
        at: 1100,
        kind: 'push',
        empId: 1,
        shiftId: 1,
        name: 'shift_offer',
        outcome: 'sent',
        detail: null,
      });
      await waitFor(async () => (await store.readJournal({ limit: 10 })).length > 0);
      expect(await store.getOffer(1, 1)).toMatchObject({ deliveredAt: 1100 });
      expect(logged).toEqual([]);
    });

    describe('following the journal across instances', () => {
      it('does not pass a line whose transaction commits after a later line', async () => {
        const schema = schemas.name();
        const [b] = await open(schema, 1);
        if (!b) throw new Error('a store');
        const line = (name: string) => ({
          at: 1000,
          kind: 'request' as const,
          empId: 1,
          shiftId: null,
          name,
          outcome: '200',
          detail: null,
        });
        b.journal(line('before'));
        const [first] = await b.readJournal({ limit: 1 });
        const afterId = first?.id ?? 0;
        // Instance A takes the next id, and commits only after instance B wrote and committed
        // its own, later lines.
        const a = inspect(schema);
        let commit = () => {};
        const held = new Promise<void>((resolve) => {
          commit = resolve;
        });
        let inserted = () => {};
        const insertedOnce = new Promise<void>((resolve) => {
          inserted = resolve;
        });
        const writing = a.begin(async (tx) => {
          await tx`INSERT INTO journal (at, kind, emp_id, name, outcome)
                   VALUES (1000, 'request', 1, 'from A', '200')`;
          inserted();
          await held;
        });
        try {
          await insertedOnce;
          b.journal(line('from B 1'));
          b.journal(line('from B 2'));
          // A follower from the start sees nothing past A's open line...
          expect(await b.readJournal({ limit: 100, afterId })).toEqual([]);
          commit();
          await writing;
          // ...and everything, in id order, once it committed (and any older transaction in
          // the database, such as another test file's, has ended: until then a read waits).
          const names = async () =>
            (await b.readJournal({ limit: 100, afterId })).map((l) => l.name);
          await waitFor(async () => (await names()).length === 3, 20_000);
          expect(await names()).toEqual(['from A', 'from B 1', 'from B 2']);
        } finally {
          commit();
          await writing.catch(() => undefined);
          await a.end();
        }
      });
    });

    describe('a lock held elsewhere past the lock timeout', () => {
      it('refuses the writes that wait for it as busy, and readiness says so, until it is let go', async () => {
        const schema = schemas.name();
        const store = await createPostgresStore({
          url: postgresUrl ?? '',
          schema,
          lockTimeoutMs: 100,
          log: () => {},
        });
        stores.push(store);
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        await store.addOffers(1, [1], 1000, {});
        const sql = postgres(postgresUrl ?? '', { max: 1, onnotice: () => {} });
        try {
          await sql.begin(async (tx) => {
            await tx`SELECT 1 FROM ${tx(schema)}.shifts WHERE id = 1 FOR UPDATE`;
            await tx`LOCK TABLE ${tx(schema)}.journal IN ACCESS EXCLUSIVE MODE`;
            await expect(store.claim(1, 1, 1100)).rejects.toMatchObject({
              code: 'E_DATABASE_BUSY',
            });
            await expect(store.checkWritable()).rejects.toMatchObject({ code: 'E_DATABASE_BUSY' });
          });
        } finally {
          await sql.end();
        }
        await expect(store.checkWritable()).resolves.toBeUndefined();
        expect(await store.claim(1, 1, 1200)).toMatchObject({ outcome: 'assigned' });
      });
    });

    describe('a write the database refuses', () => {
      it('is refused alone, and a journal line it refuses is dropped and reported', async () => {
        const { store, logged } = await offeredWithLog();
        // PostgreSQL text cannot hold U+0000.
        const line = { at: 1, kind: 'request' as const, empId: 1, shiftId: 1, outcome: '200' };
        store.journal({ ...line, name: 'bad\u0000line', detail: null });
        const [bad, good] = await Promise.allSettled([
          store.createShift({ ...SHIFT, id: 2, description: 'nul \u0000 here' }, 1000),
          store.claim(1, 1, 1100),
        ]);
        expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'E_DATABASE' } });
        expect(good).toMatchObject({ status: 'fulfilled', value: { outcome: 'assigned' } });
        expect(await store.getShift(2)).toBeUndefined();
        store.journal({ ...line, name: 'good line', detail: null });
        expect((await store.readJournal({ limit: 10 })).map((e) => e.name)).toEqual(['good line']);
        expect(logged.join('\n')).toMatch(/dropped journal lines/);
      });

      it('keeps journal lines through a lost connection, and writes again once it is back', async () => {
        const schema = schemas.name();
        const logged: string[] = [];
        const store = await createPostgresStore({
          url: postgresUrl ?? '',
          schema,
          log: (message) => logged.push(message),
        });
        stores.push(store);
        await store.createShift({ ...SHIFT, id: 1 }, 1000);
        const sql = postgres(postgresUrl ?? '', { max: 1, onnotice: () => {} });
        try {
          await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = ${`shiftctl/${schema}`}`;
        } finally {
          await sql.end();
        }
        const line = { at: 1, kind: 'request' as const, empId: 1, shiftId: 1, outcome: '200' };
        store.journal({ ...line, name: 'while it was down', detail: null });
        // The first write meets the closed connection (503 for a request: try again), unless the
        // pool saw it close first; the pool connects again for the next. (test/outage.test.ts
        // cuts a link for certain.)
        const first = await store.addOffers(1, [1], 1000, {}).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (first) expect(first).toMatchObject({ code: 'E_UNAVAILABLE' });
        await store.addOffers(1, [2], 1000, {});
        expect((await store.offersForShift(1)).map((o) => o.empId)).toContain(2);
        expect((await store.readJournal({ limit: 10 })).map((e) => e.name)).toEqual([
          'while it was down',
        ]);
        // One line when the writes start failing, one when they go through again.
        expect(logged).toEqual(
          first
            ? [
                'Writing to the database failed; trying again',
                'Writing to the database works again',
              ]
            : [],
        );
      });
    });
  },
);
