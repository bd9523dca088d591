/**
 * The cluster a server joins: Redis when given (`serve --redis`), else PostgreSQL alone when
 * the store is PostgreSQL (several instances may share it), else none (SQLite: one instance).
 * Each engine is loaded only when asked for.
 */
import { ShiftctlError } from '../errors.js';
import { redactUrl } from '../redact.js';
import type { Cluster } from './types.js';

export interface ClusterChoice {
  /** The store's database: a PostgreSQL URL (with `?schema=` kept) or a SQLite path. */
  db: string | undefined;
  /** `redis://` or `rediss://` URL. */
  redis?: string | undefined;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Whether `url` names Redis. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//i.test(url);
}

export async function openCluster(choice: ClusterChoice): Promise<Cluster | undefined> {
  const postgres = choice.db !== undefined && /^postgres(ql)?:\/\//i.test(choice.db);
  if (choice.redis !== undefined) {
    if (!isRedisUrl(choice.redis)) {
      throw new ShiftctlError(
        'E_USAGE',
        `--redis ${redactUrl(choice.redis)} is not a Redis URL; give redis://host:6379 (or rediss:// for TLS).`,
      );
    }
    if (!postgres) {
      throw new ShiftctlError(
        'E_USAGE',
        '--redis links several instances, which must share one database: give a PostgreSQL --db (postgres://user@host:5432/db).',
      );
    }
  }
  if (!postgres || choice.db === undefined) return undefined;
  // Instances on one schema form one cluster; another schema on the same Redis is another.
  const schema = new URL(choice.db).searchParams.get('schema') ?? undefined;
  if (choice.redis !== undefined) {
    const { createRedisCluster } = await import('./redis.js');
    return createRedisCluster({
      url: choice.redis,
      group: schema ? `shiftctl:${schema}` : 'shiftctl',
      warn: choice.warn,
    });
  }
  const url = new URL(choice.db);
  url.searchParams.delete('schema');
  const { createPostgresCluster } = await import('./postgres.js');
  return createPostgresCluster({ url: url.href, schema, warn: choice.warn });
}
