/**
 * Loading many rows at once, for the stats benchmark (src/bench/seed-stats.ts): shifts and
 * offers as they would stand after a long time of use, written in big batches, one transaction
 * each, past the rules. Here because only the store touches the database; nothing else uses it.
 */
import postgres from 'postgres';
import { BIGINT_AS_NUMBER } from './postgres.js';
import { migrate } from './postgres-schema.js';
import { OFFER_FIELDS, type OfferRow, SHIFT_FIELDS, type ShiftRow } from './rows.js';
import { openSqlite, unlockDatabase } from './sqlite-schema.js';

/** A shift's row as stored (`approval` as 0 or 1, which both databases take). */
export type LoadShift = ShiftRow & { approval: 0 | 1 };
/** An offer's row as stored, with when it closed. */
export type LoadOffer = OfferRow & { closed_at: number | null };

export interface BulkLoader {
  employees(rows: ReadonlyArray<{ id: number; name: string }>): Promise<void>;
  /** One batch of shifts and their offers, in one transaction. */
  batch(shifts: readonly LoadShift[], offers: readonly LoadOffer[]): Promise<void>;
  close(): Promise<void>;
}

const SHIFT_KEYS = SHIFT_FIELDS;
const OFFER_KEYS = [...OFFER_FIELDS, 'closed_at'] as const;
/** The PostgreSQL type of each column, in the order of SHIFT_KEYS and OFFER_KEYS. */
const SHIFT_TYPES =
  'bigint text text text text text text text text int int text text boolean int bigint bigint';
const OFFER_TYPES = 'bigint bigint int bigint bigint bigint bigint text text bigint';

/** `SELECT * FROM unnest($1::bigint[], $2::text[], ...)` for these column types. */
const unnest = (types: string) =>
  `SELECT * FROM unnest(${types
    .split(' ')
    .map((type, i) => `$${i + 1}::${type}[]`)
    .join(', ')})`;

/** A SQLite file, created or migrated, emptied of shifts and offers, to load into. */
export function openSqliteLoader(path: string): BulkLoader {
  const db = openSqlite(path, 'normal');
  // A benchmark's scratch file: a crash while loading just means loading again.
  db.pragma('synchronous = OFF');
  db.exec('DELETE FROM offers; DELETE FROM shifts; DELETE FROM employees;');
  const insertShift = db.prepare(
    `INSERT INTO shifts (${SHIFT_KEYS.join(', ')}) VALUES (${SHIFT_KEYS.map((k) => `@${k}`).join(', ')})`,
  );
  const insertOffer = db.prepare(
    `INSERT INTO offers (${OFFER_KEYS.join(', ')}) VALUES (${OFFER_KEYS.map((k) => `@${k}`).join(', ')})`,
  );
  const insertEmployee = db.prepare('INSERT INTO employees (id, name) VALUES (@id, @name)');
  const load = db.transaction((shifts: readonly LoadShift[], offers: readonly LoadOffer[]) => {
    for (const s of shifts) insertShift.run(s);
    for (const o of offers) insertOffer.run(o);
  });
  return {
    async employees(rows) {
      db.transaction(() => {
        for (const e of rows) insertEmployee.run(e);
      })();
    },
    async batch(shifts, offers) {
      load(shifts, offers);
    },
    async close() {
      // No ANALYZE: a server's database never has one run, so the plans timed are its plans.
      db.close();
      unlockDatabase(path);
    },
  };
}

/** A PostgreSQL database (in `schema`, when given), migrated and emptied, to load into. */
export async function openPostgresLoader(url: string, schema?: string): Promise<BulkLoader> {
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    types: BIGINT_AS_NUMBER,
    connection: schema === undefined ? {} : { search_path: `"${schema}"` },
  });
  await migrate(sql, schema);
  await sql`TRUNCATE offers, shifts, employees`;
  const column = <T, K extends keyof T>(rows: readonly T[], key: K) => rows.map((r) => r[key]);
  return {
    async employees(rows) {
      await sql`INSERT INTO employees (id, name)
        SELECT * FROM unnest(${column(rows, 'id')}::bigint[], ${column(rows, 'name')}::text[])`;
    },
    async batch(shifts, offers) {
      await sql.begin(async (tx) => {
        await tx.unsafe(
          `INSERT INTO shifts (${SHIFT_KEYS.join(', ')}) ${unnest(SHIFT_TYPES)}`,
          SHIFT_KEYS.map((k) => column(shifts, k)) as never[],
        );
        await tx.unsafe(
          `INSERT INTO offers (${OFFER_KEYS.join(', ')}) ${unnest(OFFER_TYPES)}`,
          OFFER_KEYS.map((k) => column(offers, k)) as never[],
        );
      });
    },
    async close() {
      // As autovacuum would have done by the time a table has a million rows.
      await sql`ANALYZE`;
      await sql.end({ timeout: 5 });
    },
  };
}
