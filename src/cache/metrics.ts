// Cache metrics in the process registry: hits by tier, misses, stale served, invalidations by
// source, bytes per tier and the hit ratio (alerted on below 80 %).
import { Counter, Gauge } from 'prom-client';
import { registry } from '../observability/metrics.ts';
import type { CacheKind, InvalidationSource } from './types.ts';

/** Where a hit was served from: this process's memory, Redis, or another caller's load in flight. */
export type HitTier = 'l1' | 'l2' | 'inflight';

/** Something that reports its tiers' sizes when metrics are scraped (a QueryCache). */
export interface CacheSizeSource {
  l1Bytes(): number;
  l2Bytes(): Promise<number | undefined>;
}

/** The cache's counters. */
export interface CacheMetrics {
  hits: Counter<'kind' | 'tier'>;
  misses: Counter<'kind'>;
  staleServed: Counter<'kind'>;
  invalidations: Counter<'source'>;
  l2Errors: Counter;
  /** Counts an L1 hit of kind: tallied in a plain number, added to `hits` when it is read (a scrape). */
  l1Hit(kind: CacheKind): void;
  /** Adds a live source of sizes (returns a function that removes it). */
  addSource(s: CacheSizeSource): () => void;
}

let defaultMetrics: CacheMetrics | undefined;

/** The cache metrics in the process registry (created on first use). */
export function cacheMetrics(): CacheMetrics {
  if (defaultMetrics) return defaultMetrics;
  const sources = new Set<CacheSizeSource>();
  // L1 hits are the hot path (a labelled inc hashes its labels): counted here, folded in on read.
  const l1Hits = new Map<CacheKind, number>();
  const hits = new Counter({
    name: 'pgpress_cache_hits_total',
    help: 'Cached reads served, by kind and tier (l1, l2, inflight: joined another caller\'s load).',
    labelNames: ['kind', 'tier'],
    registers: [registry],
    collect() {
      for (const [kind, n] of l1Hits) this.inc({ kind, tier: 'l1' }, n);
      l1Hits.clear();
    },
  });
  const misses = new Counter({ name: 'pgpress_cache_misses_total', help: 'Cacheable reads that went to PostgreSQL, by kind.', labelNames: ['kind'], registers: [registry] });
  const staleServed = new Counter({ name: 'pgpress_cache_stale_served_total', help: 'Reads served an expired entry while it was revalidated in the background, by kind.', labelNames: ['kind'], registers: [registry] });
  new Gauge({
    name: 'pgpress_cache_bytes',
    help: 'Bytes held per tier (l1: measured entry sizes in this process; l2: Redis used_memory).',
    labelNames: ['tier'],
    registers: [registry],
    async collect() {
      let l1 = 0;
      let l2: number | undefined;
      for (const s of sources) {
        l1 += s.l1Bytes();
        l2 ??= await s.l2Bytes();
      }
      this.set({ tier: 'l1' }, l1);
      if (l2 !== undefined) this.set({ tier: 'l2' }, l2);
    },
  });
  new Gauge({
    name: 'pgpress_cache_hit_ratio',
    help: 'Hits ÷ (hits + misses) since the process started (alert below 0.8).',
    registers: [registry],
    async collect() {
      const h = (await hits.get()).values.reduce((a, v) => a + v.value, 0);
      const m = (await misses.get()).values.reduce((a, v) => a + v.value, 0);
      this.set(h + m === 0 ? 1 : h / (h + m));
    },
  });
  defaultMetrics = {
    hits,
    misses,
    staleServed,
    invalidations: new Counter({ name: 'pgpress_cache_invalidations_total', help: 'Tag invalidations by source (write: a committed write here; db: the change feed; remote: another instance).', labelNames: ['source'], registers: [registry] }),
    l2Errors: new Counter({ name: 'pgpress_cache_l2_errors_total', help: 'Redis commands of the cache that failed or timed out (the read went on without L2).', registers: [registry] }),
    l1Hit(kind) {
      l1Hits.set(kind, (l1Hits.get(kind) ?? 0) + 1);
    },
    addSource(s) {
      sources.add(s);
      return () => sources.delete(s);
    },
  };
  return defaultMetrics;
}

/** Labels used by the cache (bounded sets). */
export type { CacheKind, InvalidationSource };
