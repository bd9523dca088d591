/** PostgreSQL stores for tests, each in a schema of its own that is dropped afterwards. */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createPostgresStore, type PostgresStore } from '../src/store/postgres.js';

/** The database the PostgreSQL suites run against; they are skipped without it. */
export const postgresUrl = process.env.SHIFTCTL_TEST_POSTGRES || undefined;

export function testSchemas() {
  const made: string[] = [];
  /** A new schema's name, dropped by dropAll. */
  const name = (): string => {
    const schema = `shiftctl_t_${randomBytes(6).toString('hex')}`;
    made.push(schema);
    return schema;
  };
  return {
    name,
    /** A store over a new schema (or the one given). */
    store(schema = name(), poolSize = 4): Promise<PostgresStore> {
      return createPostgresStore({ url: postgresUrl ?? '', schema, poolSize });
    },
    async dropAll(): Promise<void> {
      if (made.length === 0) return;
      const sql = postgres(postgresUrl ?? '', { max: 1, onnotice: () => {} });
      try {
        for (const schema of made.splice(0)) {
          await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
        }
      } finally {
        await sql.end();
      }
    },
  };
}
