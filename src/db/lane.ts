// A lane: one pg.Pool with its own size, timeouts and connection lifetime, behind a bounded
// first-come-first-served wait queue with per-caller deadlines, plus leak detection.
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';

/** The three priority lanes on the primary (replicas use 'default'). */
export type LaneName = 'critical' | 'default' | 'background';

/** Every lane name, in priority order. */
export const LANE_NAMES: readonly LaneName[] = ['critical', 'default', 'background'];

/** How one lane is sized and bounded. */
export interface LaneConfig {
  max: number;
  /** Callers allowed to wait at once; one more fails at once with PGP_POOL_TIMEOUT. */
  queueMax: number;
  acquireTimeoutMs: number;
  /** Server-side statement_timeout of the lane's connections (0 = none). */
  statementTimeoutMs: number;
  idleTimeoutMs: number;
  /** Connections are closed on release once older than this (0 = never), minus jitter. */
  maxLifetimeMs: number;
  /** Share (0–1) of maxLifetimeMs randomly cut per connection, so they do not recycle together. */
  lifetimeJitter: number;
  /** A connection held longer than this is reported with the stack that took it (0 = off). */
  leakThresholdMs: number;
}

/** A connection held longer than the leak threshold. */
export interface LeakReport {
  target: string;
  lane: LaneName;
  heldMs: number;
  /** Stack of the code that acquired the connection. */
  stack: string;
}

/** Counts for health and metrics. */
export interface LaneStats {
  max: number;
  inUse: number;
  idle: number;
  waiting: number;
  total: number;
}

/** A leased connection; call release exactly once. */
export interface Lease {
  readonly client: pg.PoolClient;
  /** Returns the connection; pass an error (or true) to discard it instead. */
  release(discard?: Error | boolean): void;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Held {
  since: number;
  trace: { stack?: string };
  reported: boolean;
}

const swallow = (): void => undefined;

/** Connection error that surely happened before any statement was sent. */
export function connectFailure(message: string, cause?: unknown): PgpressError {
  return new PgpressError('PGP_DB_UNAVAILABLE', message, { cause, pg: { sqlstate: '08001' } });
}

/** One pool, a FIFO queue in front of it, lifetimes with jitter and a leak sweeper. */
export class Lane {
  readonly pool: pg.Pool;
  private permits: number;
  private readonly queue: Waiter[] = [];
  private readonly expiry = new WeakMap<pg.PoolClient, number>();
  private readonly held = new Map<pg.PoolClient, Held>();
  private readonly sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly target: string,
    readonly name: LaneName,
    readonly config: LaneConfig,
    poolConfig: pg.PoolConfig,
    private readonly onLeak: (r: LeakReport) => void,
  ) {
    this.permits = config.max;
    this.pool = new pg.Pool({
      ...poolConfig,
      max: config.max,
      connectionTimeoutMillis: config.acquireTimeoutMs,
      idleTimeoutMillis: config.idleTimeoutMs,
      ...(config.statementTimeoutMs > 0 ? { statement_timeout: config.statementTimeoutMs } : {}),
    });
    // An idle client losing its connection must not crash the process; the pool drops it.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (c) => {
      const cut = config.maxLifetimeMs * config.lifetimeJitter * Math.random();
      this.expiry.set(c, config.maxLifetimeMs > 0 ? Date.now() + config.maxLifetimeMs - cut : Infinity);
    });
    if (config.leakThresholdMs > 0) {
      this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.floor(config.leakThresholdMs / 2)));
      this.sweeper.unref();
    }
  }

  /** Counts right now. */
  stats(): LaneStats {
    return {
      max: this.config.max,
      inUse: this.held.size,
      idle: this.pool.idleCount,
      waiting: this.queue.length,
      total: this.pool.totalCount,
    };
  }

  /** Waits (FIFO, bounded) for a connection until deadline (epoch ms), or fails with PGP_POOL_TIMEOUT. */
  async acquire(deadline: number): Promise<Lease> {
    if (this.closed) throw new PgpressError('PGP_DB_UNAVAILABLE', 'The cluster has been closed.');
    const trace: { stack?: string } = {};
    if (this.config.leakThresholdMs > 0) Error.captureStackTrace(trace, this.acquire);
    await this.permit(deadline);
    let client: pg.PoolClient;
    try {
      client = await this.connect(deadline);
    } catch (e) {
      this.handOn();
      throw e;
    }
    const entry: Held = { since: Date.now(), trace, reported: false };
    this.held.set(client, entry);
    // pg-pool listens for errors only on idle clients; a held one losing its server (crash,
    // restart) must not become an uncaught exception: its pending query fails instead.
    client.on('error', swallow);
    let released = false;
    return {
      client,
      release: (discard) => {
        if (released) return;
        released = true;
        this.held.delete(client);
        client.removeListener('error', swallow);
        const old = (this.expiry.get(client) ?? Infinity) <= Date.now();
        client.release(discard instanceof Error ? discard : discard === true || old ? true : undefined);
        this.handOn();
      },
    };
  }

  private permit(deadline: number): Promise<void> {
    if (this.permits > 0 && this.queue.length === 0) {
      this.permits--;
      return Promise.resolve();
    }
    if (this.queue.length >= this.config.queueMax) {
      return Promise.reject(
        new PgpressError('PGP_POOL_TIMEOUT', `The ${this.name} lane of ${this.target} is saturated (${this.config.queueMax} callers already waiting).`, {
          details: { target: this.target, lane: this.name },
        }),
      );
    }
    const waitMs = Math.min(deadline - Date.now(), this.config.acquireTimeoutMs);
    if (waitMs <= 0) return Promise.reject(this.timeoutError());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(this.timeoutError());
        }, waitMs),
      };
      this.queue.push(waiter);
    });
  }

  private timeoutError(): PgpressError {
    return new PgpressError('PGP_POOL_TIMEOUT', `No connection of the ${this.name} lane of ${this.target} became free before the deadline.`, {
      details: { target: this.target, lane: this.name },
    });
  }

  /** Gives a freed permit to the first waiter, or keeps it. */
  private handOn(): void {
    const next = this.queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
    } else {
      this.permits++;
    }
  }

  private async connect(deadline: number): Promise<pg.PoolClient> {
    // Holding a permit means the pool has a free slot; only opening a new connection can be slow.
    const waitMs = deadline - Date.now();
    if (waitMs <= 0) throw new PgpressError('PGP_DEADLINE_EXCEEDED', 'The deadline passed before a connection was ready.');
    let timer: NodeJS.Timeout | undefined;
    const connecting = this.pool.connect();
    try {
      return await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            // A late connection goes straight back to the pool.
            connecting.then((c) => c.release(), () => undefined);
            reject(connectFailure(`Connecting to ${this.target} did not finish before the deadline.`));
          }, waitMs);
        }),
      ]);
    } catch (e) {
      if (e instanceof PgpressError) throw e;
      throw connectFailure(`Cannot connect to ${this.target}: ${(e as Error).message}`, e);
    } finally {
      clearTimeout(timer);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const h of this.held.values()) {
      if (h.reported || now - h.since < this.config.leakThresholdMs) continue;
      h.reported = true;
      this.onLeak({ target: this.target, lane: this.name, heldMs: now - h.since, stack: h.trace.stack ?? '(no stack)' });
    }
  }

  /** Fails every waiter and closes the pool (bounded: a stopped server cannot hang it). */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const w of this.queue.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new PgpressError('PGP_DB_UNAVAILABLE', 'The cluster has been closed.'));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.pool.end().catch(() => undefined),
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }
}
