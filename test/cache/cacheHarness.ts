// Stores with the query cache over a given Redis, and a count of the article reads PostgreSQL ran.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createStore, type Store, type StoreOptions } from '../../src/store.ts';
import { QueryCache, type Lookup } from '../../src/cache/queryCache.ts';
import { connectRedis } from '../../src/http/redisClient.ts';
import { createLogger } from '../../src/observability/logger.ts';

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

/** Two instances' caches over one REDIS_URL, made as `pgpress serve` makes them (connectRedis, a duplicate for pub/sub). */
export async function cachesOver(url: string, namespace: string): Promise<[QueryCache, QueryCache]> {
  const make = async (): Promise<QueryCache> => {
    const redis = await connectRedis(url, 1_000, createLogger('silent'));
    const subscriber = redis.duplicate();
    subscriber.on('error', () => undefined);
    const cache = new QueryCache({ l1MaxBytes: 1 << 20, redis, subscriber, namespace });
    after(async () => {
      await cache.close();
      subscriber.disconnect();
      redis.disconnect();
    });
    return cache;
  };
  const caches: [QueryCache, QueryCache] = [await make(), await make()];
  await new Promise((r) => setTimeout(r, 200)); // subscriptions in place
  return caches;
}

/**
 * What the cache needs from Redis, checked through two instances (throws AssertionError): an entry
 * one stores the other reads from L2; an invalidation by one drops the other's L1 (pub/sub) within
 * a second; 40 concurrent misses of one key on both cost one load (the SET NX PX lease).
 */
export async function assertCacheWorks([a, b]: [QueryCache, QueryCache], tag: string): Promise<void> {
  let loads = 0;
  const x: Lookup<number> = { kind: 'article', key: `x:${tag}`, tags: () => [tag], load: async () => ++loads };
  assert.equal(await a.get(x), 1, 'a loads');
  assert.equal(await b.get(x), 1, 'b reads a\'s entry from L2');
  assert.equal(await b.get(x), 1, 'b holds it in L1');
  await a.invalidate([tag], 'write');
  const t0 = Date.now();
  while ((await b.get(x)) === 1) {
    assert.ok(Date.now() - t0 < 1_000, 'b still serves its L1 entry 1 s after a invalidated it: the message was not heard');
    await new Promise((r) => setTimeout(r, 10));
  }
  let slowLoads = 0;
  const slow: Lookup<string> = {
    kind: 'article', key: `lease:${tag}`, tags: () => [`${tag}:lease`],
    load: async () => {
      slowLoads++;
      await new Promise((r) => setTimeout(r, 150));
      return 'loaded';
    },
  };
  const got = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).get(slow)));
  assert.ok(got.every((v) => v === 'loaded'));
  assert.equal(slowLoads, 1, '40 concurrent misses on two instances: one load');
}
