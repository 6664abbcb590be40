// The two-tier query cache: cache-aside reads with single-flight, a cross-instance load lease,
// stale-while-revalidate and read-your-writes; tagged invalidation fanned out over pub/sub.
import { createHash, randomBytes } from 'node:crypto';
import { maxLsn } from '../db/lsn.ts';
import type { Logger } from '../observability/logger.ts';
import { decodeEntry, encodeEntry, type Entry } from './entry.ts';
import { L1 } from './l1.ts';
import { L2, type L2Miss, type RedisClient } from './l2.ts';
import { covers, fromSortable, sortableLsn } from './lsnOrder.ts';
import { cacheMetrics, type CacheMetrics } from './metrics.ts';
import { markShared } from './serialised.ts';
import { DEFAULT_TTLS, expiry, type KindTtl } from './ttl.ts';
import type { CacheKind, Invalidator, InvalidationSource } from './types.ts';

/** How to build a QueryCache. */
export interface QueryCacheOptions {
  /** Bound of the in-process tier, in measured bytes. */
  l1MaxBytes: number;
  /** The L2 client (commands bounded by a timeout, no offline queue); absent: L1 only. */
  redis?: RedisClient;
  /** Keys and channel namespace in Redis (deployments sharing one Redis each use their own). */
  namespace?: string;
  /** A second connection for pub/sub (a subscribed connection can run nothing else). */
  subscriber?: RedisClient;
  ttls?: Partial<Record<CacheKind, KindTtl>>;
  /** How long a loading instance holds the lease; others wait at most this long for its entry. */
  leaseMs?: number;
  /**
   * After an invalidation without a commit position (the database change feed), entries carrying
   * its tags are not stored for this long: a replica may not have replayed the change yet, and a
   * read from it must not be cached as current. The replica lag bound (0 without replicas).
   */
  dbSettleMs?: number;
  /** After a Redis failure, L2 is skipped this long (then one call probes it). */
  l2RetryMs?: number;
  log?: Logger;
  metrics?: CacheMetrics;
}

/** One cache-aside read: what to look up, how to load it, what it read. */
export interface Lookup<T> {
  kind: CacheKind;
  /** Everything that changes the answer (the caller builds it; long keys are hashed). */
  key: string;
  /** The caller's read-your-writes token: an entry read before it is never served. */
  token?: string;
  /** Reads from PostgreSQL at least at `token` (undefined: any fresh-enough server). */
  load: (token: string | undefined) => Promise<T>;
  /** Tags of what the value read. */
  tags: (v: T) => string[];
  /** False: the value is served but never stored (e.g. a draft). Default: stored. */
  cacheable?: (v: T) => boolean;
  /** When the caller stops waiting (Date.now() scale): waiting for another instance's load stops before. */
  deadline?: number;
}

interface Flight {
  token: string | undefined;
  done: Promise<unknown>;
}

const POLL_MS = 5;
/** An L2 step that did not run (Redis unusable) or failed: the caller goes on without L2. */
const SKIPPED = Symbol('skipped');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The query cache (see the file comment). */
export class QueryCache implements Invalidator {
  private readonly l1: L1;
  private readonly l2: L2 | undefined;
  private readonly redis: RedisClient | undefined;
  private readonly subscriber: RedisClient | undefined;
  private readonly ttls: Record<CacheKind, KindTtl>;
  private readonly leaseMs: number;
  private readonly l2RetryMs: number;
  private readonly dbSettleMs: number;
  private readonly m: CacheMetrics;
  private readonly log: Logger | undefined;
  private readonly flights = new Map<string, Flight>();
  /** This instance's id on the bus (its own messages are ignored). */
  private readonly origin = randomBytes(6).toString('hex');
  /** Newest commit position this instance heard of: loads read at least there. */
  private floor: string | undefined;
  /** L2 is skipped until then after a failure (a frozen Redis must not hold every miss). */
  private l2DownUntil = 0;
  private probing = false;
  /** Invalidations that could not reach Redis (tag → whether other instances must hear it): sent again once it answers. */
  private readonly pending = new Map<string, boolean>();
  private pendingOverflow = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly removeSource: () => void;
  private closed = false;

  constructor(opts: QueryCacheOptions) {
    this.l1 = new L1(opts.l1MaxBytes);
    this.redis = opts.redis;
    this.l2 = opts.redis ? new L2(opts.redis, opts.namespace) : undefined;
    this.subscriber = opts.subscriber;
    this.ttls = { ...DEFAULT_TTLS, ...opts.ttls };
    this.leaseMs = opts.leaseMs ?? 2_000;
    this.l2RetryMs = opts.l2RetryMs ?? 1_000;
    this.dbSettleMs = opts.dbSettleMs ?? 0;
    this.m = opts.metrics ?? cacheMetrics();
    this.log = opts.log;
    this.removeSource = this.m.addSource({ l1Bytes: () => this.l1.bytes(), l2Bytes: () => (this.l2Usable() ? this.l2!.usedBytes() : Promise.resolve(undefined)) });
    if (this.subscriber) this.listen(this.subscriber);
  }

  /**
   * A fresh L1 entry's value for key (as get would serve it), else undefined: the hit path without
   * building a Lookup (its loader closures) or a promise per read. Keys longer than 200 go to get.
   */
  peek<T>(kind: CacheKind, key: string, token: string | undefined): T | undefined {
    if (key.length > 200) return undefined;
    const e = this.l1.get(key) as Entry<T> | undefined;
    if (e === undefined || Date.now() >= e.fresh || !covers(e.lsn, token)) return undefined;
    this.m.l1Hit(kind);
    return e.v;
  }

  /** Cache-aside read: L1, then L2, then PostgreSQL (once per key across instances). */
  async get<T>(l: Lookup<T>): Promise<T> {
    const key = l.key.length > 200 ? `h:${createHash('sha256').update(l.key).digest('base64url')}` : l.key;
    const e = this.l1.get(key) as Entry<T> | undefined;
    if (e && covers(e.lsn, l.token)) {
      const now = Date.now();
      if (now < e.fresh) {
        this.m.l1Hit(l.kind);
        return e.v;
      }
      if (now < e.stale) {
        this.m.staleServed.inc({ kind: l.kind });
        if (!this.flights.has(key)) void this.flight(key, l, true).catch(() => undefined);
        return e.v;
      }
    }
    const f = this.flights.get(key);
    if (f && covers(f.token ?? '', l.token)) {
      this.m.hits.inc({ kind: l.kind, tier: 'inflight' });
      return f.done as Promise<T>;
    }
    return this.flight(key, l, false);
  }

  /** One load of key shared by every caller in this process that arrives while it runs. */
  private flight<T>(key: string, l: Lookup<T>, reload: boolean): Promise<T> {
    const done = this.fetch(key, l, reload).finally(() => {
      if (this.flights.get(key)?.done === done) this.flights.delete(key);
    });
    this.flights.set(key, { token: l.token, done });
    return done;
  }

  private async fetch<T>(key: string, l: Lookup<T>, reload: boolean): Promise<T> {
    const startedAt = Date.now();
    let miss: L2Miss | undefined;
    const got = await this.viaL2((l2) => l2.getOrLease(key, this.origin, this.leaseMs));
    if (Buffer.isBuffer(got)) {
      const e = decodeEntry<T>(got);
      if (e && !reload && covers(e.lsn, l.token) && Date.now() < e.fresh) {
        this.m.hits.inc({ kind: l.kind, tier: 'l2' });
        this.keep(key, e, got.length, startedAt);
        return e.v;
      }
      // Stale or older than the caller's token: load (without the lease: rare).
    } else if (got !== SKIPPED) {
      miss = got;
      if (!miss.leader) {
        const e = await this.awaitLeader<T>(key, l);
        if (e) {
          this.m.hits.inc({ kind: l.kind, tier: 'l2' });
          this.keep(key, e.entry, e.bytes, startedAt);
          return e.entry.v;
        }
      }
    }
    this.m.misses.inc({ kind: l.kind });
    const token = maxLsn(maxLsn(l.token, this.floor), miss ? fromSortable(miss.floor) : undefined);
    let v: T;
    try {
      v = await l.load(token);
    } catch (err) {
      if (miss?.leader) this.release(key);
      throw err;
    }
    if (l.cacheable?.(v) === false || this.closed) {
      if (miss?.leader) this.release(key);
      return v;
    }
    const now = Date.now();
    const entry: Entry<T> = { v, lsn: token ?? '', tags: l.tags(v), ...expiry(this.ttls[l.kind], now) };
    const bytes = encodeEntry(entry);
    this.keep(key, entry, bytes.length, startedAt);
    // Not awaited: the caller has its answer; waiters on other instances poll for this entry.
    if (miss) void this.viaL2((l2) => l2.set(key, bytes, entry.tags, miss.seq, Math.max(1, entry.stale - now)));
    return v;
  }

  /** Stores an entry in L1; its value is shared from now on (its response JSON is kept: serialised.ts). */
  private keep(key: string, e: Entry, bytes: number, startedAt: number): void {
    markShared(e.v);
    this.l1.set(key, e, bytes, startedAt);
  }

  /** Waits for the lease holder's entry (until the lease or the caller's deadline runs out). */
  private async awaitLeader<T>(key: string, l: Lookup<T>): Promise<{ entry: Entry<T>; bytes: number } | undefined> {
    const until = Math.min(Date.now() + this.leaseMs, (l.deadline ?? Infinity) - 50);
    while (Date.now() < until) {
      await sleep(POLL_MS);
      const buf = await this.viaL2((l2) => l2.poll(key));
      if (buf === 'loading') continue;
      if (buf === 'gone' || buf === SKIPPED) return undefined;
      const e = decodeEntry<T>(buf);
      if (e && covers(e.lsn, l.token)) return { entry: e, bytes: buf.length };
      return undefined;
    }
    return undefined;
  }

  /** Gives up this instance's lease on key (not awaited: waiters notice within a poll). */
  private release(key: string): void {
    void this.viaL2((l2) => l2.release(key, this.origin));
  }

  /**
   * See Invalidator.invalidate. One path per source, so one change is one message at most: a write
   * committed here ('write') is published to the other instances (with its commit position, at
   * once); a change the database logged ('db') is not, because every instance's change feed reads
   * the same log itself; a message heard ('remote') only drops this L1.
   */
  async invalidate(tags: readonly string[], source: InvalidationSource, lsn?: string): Promise<void> {
    if (tags.length === 0) return;
    this.m.invalidations.inc({ source }, tags.length);
    this.floor = maxLsn(this.floor, lsn);
    // Without a position, loads that start within the settle window may read a lagging replica.
    const settleMs = lsn === undefined && source !== 'write' ? this.dbSettleMs : 0;
    this.l1.invalidate(tags, Date.now() + settleMs);
    if (source === 'remote' || !this.l2) return;
    await this.toL2(tags, lsn, settleMs, source === 'write');
  }

  /** Marks tags in L2 and drops their entries; with announce, also tells the other instances' L1s. */
  private async toL2(tags: readonly string[], lsn: string | undefined, settleMs: number, announce: boolean): Promise<void> {
    const message = announce ? JSON.stringify({ o: this.origin, t: tags, l: lsn ?? '' }) : '';
    if ((await this.viaL2((l2) => l2.invalidate(tags, sortableLsn(lsn), message, settleMs))) !== SKIPPED) return;
    // Kept for when Redis answers again: until then other instances' entries live at most their TTL.
    for (const t of tags) this.pending.set(t, announce || this.pending.get(t) === true);
    if (this.pending.size > 10_000) {
      this.pending.clear();
      this.pendingOverflow = true;
    }
    this.scheduleRetry();
  }

  /** Pending invalidations are retried on the next Redis answer, or after the back-off even if nothing else calls Redis. */
  private scheduleRetry(): void {
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.flushPending();
      }, this.l2RetryMs + 10);
      this.retryTimer.unref();
    }
  }

  private listen(sub: RedisClient): void {
    let connectedBefore = false;
    sub.on('message', (channel: string, raw: string) => {
      if (channel !== this.l2!.channel) return;
      try {
        const msg = JSON.parse(raw) as { o: string; t: string[]; l: string; all?: boolean };
        if (msg.o === this.origin) return;
        if (msg.all) {
          this.l1.clear();
          return;
        }
        void this.invalidate(msg.t, 'remote', msg.l === '' ? undefined : msg.l);
      } catch {
        // Not ours: ignore.
      }
    });
    const subscribe = (): void => {
      void sub.subscribe(this.l2!.channel).catch((err: unknown) => this.log?.warn({ err: (err as Error).message }, 'cache: cannot subscribe to invalidations yet'));
    };
    sub.on('ready', () => {
      // Messages published while this connection was down are lost: start L1 afresh.
      if (connectedBefore) this.l1.clear();
      connectedBefore = true;
      subscribe();
    });
    sub.on('error', () => undefined);
    if (sub.status === 'ready') {
      connectedBefore = true;
      subscribe();
    }
  }

  /** True when L2 exists, is connected and is not in its back-off after a failure (nor being probed). */
  private l2Usable(): boolean {
    if (!this.l2 || this.closed || this.redis!.status !== 'ready') return false;
    // After a failure: skipped until the back-off ends, then one caller probes while the rest skip.
    return this.l2DownUntil === 0 || (Date.now() >= this.l2DownUntil && !this.probing);
  }

  /** Runs one L2 step if L2 is usable, reporting its outcome to the back-off; SKIPPED when unusable or failed. */
  private async viaL2<R>(fn: (l2: L2) => Promise<R>): Promise<R | typeof SKIPPED> {
    if (!this.l2Usable()) return SKIPPED;
    if (this.l2DownUntil !== 0) this.probing = true;
    try {
      const r = await fn(this.l2!);
      this.l2Answered();
      return r;
    } catch (err) {
      this.l2Failed(err);
      return SKIPPED;
    }
  }

  private l2Answered(): void {
    this.probing = false;
    this.l2DownUntil = 0;
    if (this.pending.size > 0 || this.pendingOverflow) void this.flushPending();
  }

  private l2Failed(err: unknown): void {
    this.m.l2Errors.inc();
    this.probing = false;
    this.l2DownUntil = Date.now() + this.l2RetryMs;
    this.log?.debug({ err: (err as Error).message }, 'cache: redis failed; L2 skipped for a while');
  }

  private async flushPending(): Promise<void> {
    if (!this.l2Usable()) {
      this.scheduleRetry();
      return;
    }
    const announced = [...this.pending].filter(([, a]) => a).map(([t]) => t);
    const quiet = [...this.pending].filter(([, a]) => !a).map(([t]) => t);
    const all = this.pendingOverflow;
    this.pending.clear();
    this.pendingOverflow = false;
    if (all) {
      await this.redis!.publish(this.l2!.channel, JSON.stringify({ o: this.origin, t: [], l: '', all: true })).catch(() => undefined);
    }
    if (announced.length > 0) await this.toL2(announced, undefined, 0, true);
    if (quiet.length > 0) await this.toL2(quiet, undefined, 0, false);
  }

  /** Stops listening; the Redis clients belong to the caller. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.removeSource();
    if (this.subscriber) await this.subscriber.unsubscribe(this.l2!.channel).catch(() => undefined);
  }
}
