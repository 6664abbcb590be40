// Starts the database change feed for a query cache: tags from the log invalidate the cache
// (source 'db'), and the cursor is kept in the cache's Redis so a restart replays what L2 missed.
import type { Cluster as RedisCluster, Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import { startChangeFeed, type RunningChangeFeed } from './changeFeed.ts';
import { redisCursorStore } from './changeFeedCursor.ts';
import type { Invalidator } from './types.ts';

/** What the feed needs from its surroundings. */
export interface CacheChangeFeedOptions {
  /**
   * A direct PostgreSQL URL (CACHE_LISTEN_URL, default DATABASE_URL): LISTEN fails through PgBouncer.
   * Several hosts (or patroniUrls): the feed follows the primary, resolved on every (re)connect.
   */
  url: string;
  /** PATRONI_URLS, when url is the cluster's (DATABASE_URL): the feed connects to Patroni's leader. */
  patroniUrls?: readonly string[];
  cache: Invalidator;
  /** The cache's L2 Redis: holds the cursor. Without it (L1 only) a fresh process starts at "now", which is exact: its L1 is empty. */
  redis?: Redis | RedisCluster;
  /** The cache's namespace in Redis (each deployment sharing a Redis keeps its own cursor). */
  namespace?: string;
  log: Logger;
  pollMs?: number;
  retentionMs?: number;
}

/** The tag a change that touched too much to list (TRUNCATE, a huge statement) carries: drop everything. */
export const ALL_TAGS = '*';

/**
 * Runs the change feed into cache.invalidate(tags, 'db'). Why the cursor lives in Redis: L2
 * outlives this process, so writes made while no instance ran must still reach it; the stored
 * cursor says up to where L2 has been invalidated. When it is older than the log's retention
 * (rows it needed may be gone) the whole cache is invalidated with ALL_TAGS.
 */
export function startCacheChangeFeed(o: CacheChangeFeedOptions): Promise<RunningChangeFeed> {
  return startChangeFeed({
    url: o.url,
    ...(o.patroniUrls === undefined ? {} : { patroniUrls: o.patroniUrls }),
    log: o.log,
    ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
    ...(o.retentionMs === undefined ? {} : { retentionMs: o.retentionMs }),
    ...(o.redis ? { cursorStore: redisCursorStore(o.redis, `pgpress:c:{${o.namespace ?? 'c'}}:changefeed`) } : {}),
    onTags: (tags) => o.cache.invalidate(tags, 'db'),
    onGap: () => o.cache.invalidate([ALL_TAGS], 'db'),
  });
}
