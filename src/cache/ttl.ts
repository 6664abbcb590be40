// Time to live per kind, with jitter so entries written together do not expire together.
import type { CacheKind } from './types.ts';

/** Fresh and stale-while-revalidate windows of one kind, in ms. */
export interface KindTtl {
  freshMs: number;
  staleMs: number;
}

/** Defaults: content that writes invalidate lives long; analytics follow the matview refresh. */
export const DEFAULT_TTLS: Readonly<Record<CacheKind, KindTtl>> = Object.freeze({
  article: { freshMs: 300_000, staleMs: 30_000 },
  user: { freshMs: 300_000, staleMs: 30_000 },
  feed: { freshMs: 60_000, staleMs: 10_000 },
  search: { freshMs: 60_000, staleMs: 10_000 },
  analytics: { freshMs: 60_000, staleMs: 60_000 },
});

/** Fraction of the fresh window taken off at random (0..10 %). */
const JITTER = 0.1;

/** When an entry written now stops being fresh and stops being servable at all (epoch ms). */
export function expiry(ttl: KindTtl, now: number, random: () => number = Math.random): { fresh: number; stale: number } {
  const fresh = now + Math.round(ttl.freshMs * (1 - JITTER * random()));
  return { fresh, stale: fresh + ttl.staleMs };
}

/** The per-kind windows from the two settings: content (articles, users) and lists (feed, search, analytics). */
export function ttlsFrom(contentMs: number, listMs: number): Record<CacheKind, KindTtl> {
  const content = { freshMs: contentMs, staleMs: Math.round(contentMs / 10) };
  const list = { freshMs: listMs, staleMs: Math.round(listMs / 6) };
  // Analytics change only when a matview refreshes: serving the previous answer a while longer is harmless.
  return { article: content, user: content, feed: list, search: list, analytics: { freshMs: listMs, staleMs: listMs } };
}
