/**
 * The cluster a server joins: Redis when given (`serve --redis`), else PostgreSQL alone when
 * the store is PostgreSQL (several instances may share it), else none (SQLite: one instance).
 * Each engine is loaded only when asked for.
 */
import { checkRedis, isPostgresUrl } from '../serve-urls.js';
import type { Cluster } from './types.js';

export interface ClusterChoice {
  /** The store's database: a PostgreSQL URL (with `?schema=` kept) or a SQLite path. */
  db: string | undefined;
  /** `redis://` or `rediss://` URL. */
  redis?: string | undefined;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export async function openCluster(choice: ClusterChoice): Promise<Cluster | undefined> {
  if (choice.redis !== undefined) checkRedis(choice.redis, choice.db);
  if (!isPostgresUrl(choice.db)) return undefined;
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
