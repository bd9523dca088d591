/**
 * The URLs `serve` takes (`--db`, `--redis`, `--push-webhook`), checked before anything is
 * opened. Each check throws `E_USAGE` naming the option as `name`: its flag by default; the
 * CLI passes the environment variable instead when the value came from there, and checks them
 * while parsing. Nothing heavy is imported here (no driver), so a usage error stays cheap.
 */
import { ShiftctlError } from './errors.js';
import { redactUrl } from './redact.js';
import { SCHEMA_NAME } from './store/schema-name.js';

/** Anything that starts like a URL: a scheme and `://`. */
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Whether `db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string | undefined): db is string {
  return db !== undefined && /^postgres(ql)?:\/\//i.test(db);
}

/** Whether `url` names Redis. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//i.test(url);
}

/**
 * `--db`: a SQLite file path, `:memory:`, or a `postgres://` (`postgresql://`) URL whose
 * `?schema=` is a plain identifier. Any other URL is refused, not taken as a file name.
 */
export function checkDb(db: string, name = '--db'): void {
  if (db === '') {
    throw new ShiftctlError(
      'E_USAGE',
      `${name} must not be empty: give a SQLite file, :memory: or a PostgreSQL URL.`,
    );
  }
  if (!URL_LIKE.test(db)) return;
  if (!isPostgresUrl(db)) {
    throw new ShiftctlError(
      'E_USAGE',
      `${name} ${redactUrl(db)} is not a database shiftctl can use: the URLs it takes are postgres:// and postgresql:// (PostgreSQL); a SQLite file is given as a path, or :memory:.`,
    );
  }
  let url: URL;
  try {
    url = new URL(db);
  } catch {
    throw new ShiftctlError('E_USAGE', `${name} ${redactUrl(db)} is not a valid URL.`);
  }
  const schema = url.searchParams.get('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new ShiftctlError(
      'E_USAGE',
      `The schema name ${JSON.stringify(schema)} in ${name} is not a plain identifier (letters, digits, _).`,
    );
  }
}

/**
 * `--redis`: a `redis://` or `rediss://` URL, with no path or a database number
 * (`redis://host:6379/2`), beside a PostgreSQL `db`. Whether Redis has that database is found
 * out when it is reached.
 */
export function checkRedis(
  redis: string,
  db: string | undefined,
  names: { redis?: string; db?: string } = {},
): void {
  const name = names.redis ?? '--redis';
  if (redis === '') {
    throw new ShiftctlError(
      'E_USAGE',
      `${name} must not be empty: give redis://host:6379 (or rediss:// for TLS), or leave it out.`,
    );
  }
  if (!isRedisUrl(redis)) {
    throw new ShiftctlError(
      'E_USAGE',
      `${name} ${redactUrl(redis)} is not a Redis URL; give redis://host:6379 (or rediss:// for TLS).`,
    );
  }
  let url: URL;
  try {
    url = new URL(redis);
  } catch {
    throw new ShiftctlError('E_USAGE', `${name} ${redactUrl(redis)} is not a valid URL.`);
  }
  if (!/^(\/\d*)?$/.test(url.pathname)) {
    throw new ShiftctlError(
      'E_USAGE',
      `${name} ${redactUrl(redis)} names no Redis database: its path must be empty or a number, as in redis://host:6379/0.`,
    );
  }
  if (!isPostgresUrl(db)) {
    throw new ShiftctlError(
      'E_USAGE',
      `${name} links several instances, which must share one database: give ${names.db ?? '--db'} a PostgreSQL URL (postgres://user@host:5432/db).`,
    );
  }
}

/** `--push-webhook`: an http or https URL, returned whole. */
export function webhookUrl(value: string, name = '--push-webhook'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ShiftctlError('E_USAGE', `${name} ${redactUrl(value)} is not a valid URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ShiftctlError(
      'E_USAGE',
      `${name} must be an http:// or https:// URL, not ${url.protocol}.`,
    );
  }
  return url.href;
}
