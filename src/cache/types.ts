// The cache's contract: tags, kinds, the invalidation entry point and the change-feed seam.
import type { Logger } from '../observability/logger.ts';

/**
 * Tags name what an entry read; invalidating a tag drops every entry that carries it.
 *   `article:<id>`  one article (by id or slug, its analytics row, any page that lists it)
 *   `author:<id>`   everything listed by author (the author's feed pages)
 *   `user:<id>`     one user's profile and engagement
 *   `tag:<name>`    a tag's feed pages
 *   `feed:*`        every feed page (any article published, changed or archived)
 *   `search:*`      every search result (any article's text, title or status changed)
 *   `analytics:*`   every analytics read (a materialized view refreshed)
 *   `*`             everything (the change feed lost track: its cursor fell behind the log)
 */
export type CacheTag = `article:${number}` | `author:${number}` | `user:${number}` | `tag:${string}` | 'feed:*' | 'search:*' | 'analytics:*' | '*';

/** Tag builders, so callers never spell a tag by hand. */
export const tags = {
  article: (id: number): CacheTag => `article:${id}`,
  author: (id: number): CacheTag => `author:${id}`,
  user: (id: number): CacheTag => `user:${id}`,
  tag: (name: string): CacheTag => `tag:${name}`,
  feed: 'feed:*' as CacheTag,
  search: 'search:*' as CacheTag,
  analytics: 'analytics:*' as CacheTag,
} as const;

/** What an entry holds; each kind has its own TTL (with jitter) and stale-while-revalidate window. */
export type CacheKind = 'article' | 'feed' | 'search' | 'analytics' | 'user';

/** Who asked for an invalidation: this instance's committed write, the database's change feed, another instance. */
export type InvalidationSource = 'write' | 'db' | 'remote';

/** Anything that can drop tagged entries everywhere (the cache; a test double never). */
export interface Invalidator {
  /**
   * Drops local L1 entries carrying any of tags, marks the tags invalidated in L2 (Redis) so no
   * entry read before now is served again, and publishes to every other instance's L1.
   * `lsn`: the commit position of the change when known (reads after it wait for that position).
   * Never throws: with Redis unavailable the local tier is still invalidated.
   */
  invalidate(tags: readonly string[], source: InvalidationSource, lsn?: string): Promise<void>;
}

/** A running database change feed (src/cache/changeFeed.ts). */
export interface ChangeFeed {
  stop(): Promise<void>;
}

/** How to start the change feed: a direct PostgreSQL URL (not through PgBouncer: LISTEN). */
export interface ChangeFeedOptions {
  url: string;
  onTags: (tags: string[]) => Promise<void> | void;
  log: Logger;
  pollMs?: number;
}
