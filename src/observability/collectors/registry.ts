// The database collectors' registry: one prom-client metric per collector family, filled from the
// scrape cache when scraped. One per served app (its own Cluster), beside the process registry.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Queryable } from '../../db/queryable.ts';
import { activityCollector } from './activity.ts';
import { auditCollector } from './audit.ts';
import { databaseCollector } from './database.ts';
import { indexesCollector } from './indexes.ts';
import { matviewsCollector } from './matviews.ts';
import { partitionsCollector } from './partitions.ts';
import { replicationCollector } from './replication.ts';
import { ScrapeCache, type CollectorResult } from './scrapeCache.ts';
import { statementsCollector } from './statements.ts';
import { tablesCollector } from './tables.ts';
import type { Collector } from './types.ts';
import { walCollector } from './wal.ts';

/** How the database collectors run. */
export interface DbCollectorOptions {
  /** Served from cache for this long (METRICS_DB_CACHE_MS). */
  cacheMs: number;
  /** Slow collectors (audit, partitions: table scans) are cached this long (default 60 s, at least cacheMs). */
  slowCacheMs?: number;
  /** pg_stat_statements series kept (METRICS_STATEMENTS_TOP_K); the rest is `other`. */
  statementsTopK: number;
  /** Each collector statement's deadline (default 5 s). */
  deadlineMs?: number;
  warn(message: string, error?: unknown): void;
}

/** Every database collector, in scrape order. */
export function allCollectors(opts: Pick<DbCollectorOptions, 'statementsTopK' | 'warn'>): Collector[] {
  return [
    databaseCollector, activityCollector, tablesCollector, indexesCollector, replicationCollector,
    walCollector, matviewsCollector, partitionsCollector, auditCollector, statementsCollector(opts.statementsTopK, (m) => opts.warn(m)),
  ];
}

/** A registry whose families read db through a scrape cache; the cache is returned for direct use (doctor). */
export function createDbCollectorRegistry(db: Queryable, opts: DbCollectorOptions): { registry: Registry; cache: ScrapeCache } {
  const cache = new ScrapeCache(db, allCollectors(opts), { ttlMs: opts.cacheMs, slowTtlMs: Math.max(opts.cacheMs, opts.slowCacheMs ?? 60_000), deadlineMs: opts.deadlineMs ?? 5_000, warn: opts.warn });
  const registry = new Registry();
  // Every family's collect() awaits the same snapshot: one scrape, one run per stale collector.
  for (const c of cache.collectors) {
    for (const f of c.families) {
      const fill = (snapshot: Map<string, CollectorResult>, set: (labels: Record<string, string>, v: number) => void): void => {
        for (const s of snapshot.get(c.name)?.samples ?? []) if (s.name === f.name) set(s.labels, s.value);
      };
      const common = { name: f.name, help: f.help, labelNames: f.labelNames, registers: [registry] };
      if (f.type === 'gauge') {
        new Gauge({ ...common, async collect() { const snap = await cache.snapshot(); this.reset(); fill(snap, (l, v) => this.set(l, v)); } });
      } else {
        // PostgreSQL keeps the running total: the counter is set to it (reset, then one inc).
        new Counter({ ...common, async collect() { const snap = await cache.snapshot(); this.reset(); fill(snap, (l, v) => this.inc(l, Math.max(0, v))); } });
      }
    }
  }
  new Gauge({
    name: 'pgpress_collector_up', help: '1 when the database collector\'s last run succeeded, 0 when it failed.', labelNames: ['collector'], registers: [registry],
    async collect() { const snap = await cache.snapshot(); this.reset(); for (const [name, r] of snap) this.set({ collector: name }, r.ok ? 1 : 0); },
  });
  new Gauge({
    name: 'pgpress_collector_duration_seconds', help: 'How long each database collector\'s last run took.', labelNames: ['collector'], registers: [registry],
    async collect() { const snap = await cache.snapshot(); this.reset(); for (const [name, r] of snap) this.set({ collector: name }, r.durationSeconds); },
  });
  return { registry, cache };
}
