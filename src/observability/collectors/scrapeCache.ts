// The scrape cache: each collector reads the database at most once per interval, and concurrent
// scrapes share the run in flight, so a scrape storm never becomes a query storm.
import type { Queryable } from '../../db/queryable.ts';
import type { Collector, Sample } from './types.ts';

/** The last run of one collector. */
export interface CollectorResult {
  ok: boolean;
  samples: Sample[];
  durationSeconds: number;
  /** Date.now() when the run finished. */
  at: number;
}

/** Options of the scrape cache. */
export interface ScrapeCacheOptions {
  /** A result younger than this is served as is. */
  ttlMs: number;
  /** The same for slow collectors (table scans). */
  slowTtlMs: number;
  /** Every collector statement's deadline. */
  deadlineMs: number;
  /** Told when a collector fails (once per failing streak). */
  warn(message: string, error?: unknown): void;
}

/** Runs collectors against db on its background lane, cached and single-flight per collector. */
export class ScrapeCache {
  private readonly results = new Map<string, CollectorResult>();
  private readonly running = new Map<string, Promise<CollectorResult>>();
  private readonly db: Queryable;

  constructor(
    db: Queryable,
    readonly collectors: readonly Collector[],
    private readonly opts: ScrapeCacheOptions,
  ) {
    // Statistics reads never take a request lane's connection, and never wait long for one.
    this.db = { query: (q, params, o) => db.query(q, params, { ...o, lane: 'background', deadlineMs: opts.deadlineMs }) };
  }

  /** Every collector's latest result, read now where the cached one is too old. */
  async snapshot(): Promise<Map<string, CollectorResult>> {
    await Promise.all(this.collectors.map((c) => this.result(c)));
    return this.results;
  }

  private result(c: Collector): Promise<CollectorResult> {
    const cached = this.results.get(c.name);
    if (cached && Date.now() - cached.at < (c.slow ? this.opts.slowTtlMs : this.opts.ttlMs)) return Promise.resolve(cached);
    let run = this.running.get(c.name);
    if (!run) {
      run = this.run(c).finally(() => this.running.delete(c.name));
      this.running.set(c.name, run);
    }
    return run;
  }

  private async run(c: Collector): Promise<CollectorResult> {
    const started = performance.now();
    const previous = this.results.get(c.name);
    let result: CollectorResult;
    try {
      const samples = await c.collect(this.db);
      result = { ok: true, samples, durationSeconds: (performance.now() - started) / 1000, at: Date.now() };
    } catch (e) {
      if (previous?.ok !== false) this.opts.warn(`metrics collector ${c.name} failed: its series are absent until it succeeds`, e);
      result = { ok: false, samples: [], durationSeconds: (performance.now() - started) / 1000, at: Date.now() };
    }
    this.results.set(c.name, result);
    return result;
  }
}
