// Stores with the query cache over a given Redis, and a count of the article reads PostgreSQL ran.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createStore, type Store, type StoreOptions } from '../../src/store.ts';

/** A Redis client as the service makes it: bounded commands, no offline queue. */
export function cacheRedis(url: string, commandTimeoutMs = 1_000): Redis {
  const r = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs, connectTimeout: 1_000, retryStrategy: (n) => Math.min(n * 100, 500) });
  r.on('error', () => undefined);
  after(() => r.disconnect());
  return r;
}

/** Resolves once r is connected. */
export async function ready(r: Redis): Promise<void> {
  if (r.status === 'ready') return;
  await new Promise<void>((ok) => r.once('ready', () => ok()));
}

/** A store on url caching through redisUrl (L1 only without it), in namespace (default: one per call site's file). */
export async function cachedStore(url: string, redisUrl: string | undefined, namespace: string, extra: Partial<StoreOptions> = {}): Promise<Store> {
  const redis = redisUrl === undefined ? undefined : cacheRedis(redisUrl);
  if (redis) await ready(redis);
  const store = await createStore({ url, pool: { max: 4 }, cache: { l1MaxBytes: 8 << 20, namespace, ...(redis ? { redis } : {}) }, ...extra });
  after(() => store.close());
  return store;
}

/** A fresh namespace for one test file's keys in a shared Redis. */
export function freshNamespace(): string {
  return randomBytes(5).toString('hex');
}

/**
 * Index scans of articles_pkey PostgreSQL has counted (one per read of an article by id). Counted
 * by the server, not by us; a backend's counts are flushed when it exits, so close the stores first.
 */
export async function articleIdScans(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string }>("SELECT idx_scan::text AS n FROM pg_stat_user_indexes WHERE indexrelname = 'articles_pkey'");
    return Number(rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}
