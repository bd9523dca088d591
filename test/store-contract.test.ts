/**
 * The store contract against every store: SQLite always, PostgreSQL when SHIFTCTL_TEST_POSTGRES
 * names a database (e.g. postgres://root@127.0.0.1:5432/test). Each PostgreSQL store gets a
 * schema of its own, dropped at the end, so runs can share the database.
 */
import { afterAll, describe } from 'vitest';
import { createSqliteStore } from '../src/store/sqlite.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('sqlite', () => createSqliteStore({ path: ':memory:' }));

describe.skipIf(postgresUrl === undefined)('postgres (set SHIFTCTL_TEST_POSTGRES to run)', () => {
  const schemas = testSchemas();
  afterAll(() => schemas.dropAll());
  describeStoreContract('postgres', () => schemas.store());
});
