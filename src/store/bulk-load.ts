/**
 * Loading many rows at once, for the stats benchmark (src/bench/seed-stats.ts): shifts and
 * offers as they would stand after a long time of use, written in big batches, one transaction
 * each, past the rules. Here because only the store touches the database; nothing else uses it.
 */
import postgres from 'postgres';
import type { OfferResponse, Outcome, ShiftMode, ShiftStatus } from '../protocol/schemas.js';
import { BIGINT_AS_NUMBER } from './postgres.js';
import { migrate } from './postgres-schema.js';
import { openSqlite, unlockDatabase } from './sqlite-schema.js';

export interface LoadShift {
  id: number;
  date: string;
  start_time: string;
  end_time: string;
  location_name: string | null;
  client_name: string | null;
  service_type: string | null;
  slots: number;
  filled: number;
  status: ShiftStatus;
  mode: ShiftMode;
  created_at: number;
  closed_at: number | null;
}

export interface LoadOffer {
  shift_id: number;
  emp_id: number;
  position: number | null;
  sent_at: number | null;
  expires_at: number | null;
  delivered_at: number | null;
  answered_at: number | null;
  response: OfferResponse | null;
  outcome: Outcome;
  closed_at: number | null;
}

export interface BulkLoader {
  employees(rows: ReadonlyArray<{ id: number; name: string }>): Promise<void>;
  /** One batch of shifts and their offers, in one transaction. */
  batch(shifts: readonly LoadShift[], offers: readonly LoadOffer[]): Promise<void>;
  close(): Promise<void>;
}

const SHIFT_KEYS = [
  'id',
  'date',
  'start_time',
  'end_time',
  'location_name',
  'client_name',
  'service_type',
  'slots',
  'filled',
  'status',
  'mode',
  'created_at',
  'closed_at',
] as const;
const OFFER_KEYS = [
  'shift_id',
  'emp_id',
  'position',
  'sent_at',
  'expires_at',
  'delivered_at',
  'answered_at',
  'response',
  'outcome',
  'closed_at',
] as const;

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
          `INSERT INTO shifts (${SHIFT_KEYS.join(', ')})
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::int[], $9::int[], $10::text[], $11::text[], $12::bigint[],
             $13::bigint[])`,
          SHIFT_KEYS.map((k) => column(shifts, k)) as never[],
        );
        await tx.unsafe(
          `INSERT INTO offers (${OFFER_KEYS.join(', ')})
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[], $5::bigint[],
             $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::bigint[])`,
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
