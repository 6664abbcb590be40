// A lane: one pg.Pool with its own size, timeouts and connection lifetime, behind a bounded
// first-come-first-served wait queue with per-caller deadlines, plus leak detection. Every lease
// ends by its deadline: past it, the lane cancels the statement on the server and closes the
// connection, so a frozen server cannot hold a caller.
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { sendCancel } from './cancel.ts';

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
  /** TCP keepalive: idle time before the first probe, so a black-holed socket is noticed. */
  keepAliveInitialDelayMs: number;
}

/** A connection held longer than the leak threshold. */
export interface LeakReport {
  target: string;
  lane: LaneName;
  heldMs: number;
  /** Stack of the code that acquired the connection; undefined when that call was not sampled. */
  stack: string | undefined;
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
  /** True once the lane took the connection back at the lease's deadline (cancelled, closed). */
  readonly expired: boolean;
  /** Returns the connection; pass an error (or true) to discard it instead. */
  release(discard?: Error | boolean): void;
}

interface Waiter {
  /** Epoch ms after which the waiter gets PGP_POOL_TIMEOUT. */
  until: number;
  resolve: (client: pg.PoolClient | null) => void;
  reject: (e: Error) => void;
}

/** A lease as the lane tracks it: one object per call (a class: no closures to allocate). */
class LaneLease implements Lease {
  readonly since = Date.now();
  reported = false;
  expired = false;
  released = false;

  constructor(
    private readonly lane: Lane,
    readonly client: pg.PoolClient,
    /** Epoch ms by which the lease must be released. */
    readonly deadline: number,
    readonly trace: CallerTrace,
  ) {}

  release(discard?: Error | boolean): void {
    this.lane.giveBack(this, discard);
  }
}

const swallow = (): void => undefined;
/** How long ending the pool's idle connections may take at close (a frozen server never answers). */
const POOL_END_MS = 1_000;

/** Where a connection was asked for (its stack is formatted only if a leak is reported). */
export interface CallerTrace {
  stack?: string;
}

const NO_TRACE: CallerTrace = {};

/** Captures up to four caller frames above fn (the string is formatted only when printed). */
export function captureCaller(fn: (...args: never[]) => unknown): CallerTrace {
  const trace: CallerTrace = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 4;
  Error.captureStackTrace(trace, fn);
  Error.stackTraceLimit = limit;
  return trace;
}

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
  private readonly held = new Set<LaneLease>();
  private readonly sweeper: NodeJS.Timeout;
  private waitTimer: NodeJS.Timeout | undefined;
  /** When the wait timer fires (epoch ms); a waiter with an earlier deadline re-arms it. */
  private waitTimerAt = Infinity;
  private closed = false;
  /** Set while close() waits for leased connections to come back. */
  private drained: (() => void) | undefined;

  constructor(
    readonly target: string,
    readonly name: LaneName,
    readonly config: LaneConfig,
    poolConfig: pg.PoolConfig,
    private readonly onLeak: (r: LeakReport) => void,
    /** Called when a lease expired and the server did not even answer its cancel request. */
    private readonly onUnresponsive: () => void = () => undefined,
  ) {
    this.permits = config.max;
    this.pool = new pg.Pool({
      ...poolConfig,
      max: config.max,
      keepAlive: true,
      keepAliveInitialDelayMillis: config.keepAliveInitialDelayMs,
      // Bounds opening a connection to a frozen server (the socket is destroyed, the slot freed).
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
    // One sweeper for all leases (a timer per call costs throughput): it ends leases past their
    // deadline, within a twentieth of the default bound (at most 250 ms late), and reports leaks.
    const deadlineTick = Math.min(250, Math.max(10, Math.floor((config.acquireTimeoutMs + config.statementTimeoutMs) / 20)));
    const leakTick = config.leakThresholdMs > 0 ? Math.max(10, Math.floor(config.leakThresholdMs / 2)) : Infinity;
    this.sweeper = setInterval(() => this.sweep(), Math.min(deadlineTick, leakTick));
    this.sweeper.unref();
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

  /**
   * Waits (FIFO, bounded) for a connection until deadline (epoch ms), or fails with PGP_POOL_TIMEOUT.
   * The lease must be released by the same deadline: past it the lane expires it (see expire()).
   */
  acquire(deadline: number, trace: CallerTrace = NO_TRACE): Promise<Lease> {
    if (this.closed) return Promise.reject(new PgpressError('PGP_DB_UNAVAILABLE', 'The cluster has been closed.'));
    // Plain promises, not async: each async layer costs a measurable share of a point read.
    const waiting = this.permit(deadline);
    if (waiting === null) return this.open(deadline, trace);
    return waiting.then((client) => (client === null ? this.open(deadline, trace) : this.lease(client, deadline, trace)));
  }

  /** Takes a connection from the pool under a permit already held. */
  private async open(deadline: number, trace: CallerTrace): Promise<Lease> {
    let client: pg.PoolClient;
    try {
      client = await this.connect(deadline);
    } catch (e) {
      this.handOn(null);
      throw e;
    }
    // pg-pool listens for errors only on idle clients; a held one losing its server (crash,
    // restart) must not become an uncaught exception: its pending query fails instead.
    client.on('error', swallow);
    return this.lease(client, deadline, trace);
  }

  private lease(client: pg.PoolClient, deadline: number, trace: CallerTrace): Lease {
    const lease = new LaneLease(this, client, deadline, trace);
    this.held.add(lease);
    return lease;
  }

  /** Lease.release(): back to the next waiter or the pool, or closed when discarded or too old. */
  giveBack(lease: LaneLease, discard: Error | boolean | undefined): void {
    if (lease.released) return;
    lease.released = true;
    this.held.delete(lease);
    const client = lease.client;
    const old = (this.expiry.get(client) ?? Infinity) <= Date.now();
    if (discard || old || this.closed || this.queue.length === 0) {
      client.removeListener('error', swallow);
      // A discarded client with a statement in flight is closed at once (pg destroys its socket),
      // which fails that statement: nothing waits on a server that does not answer.
      client.release(discard instanceof Error ? discard : discard === true || old ? true : undefined);
      this.handOn(null);
      if (this.closed && this.held.size === 0) this.drained?.();
    } else {
      this.handOn(client); // straight to the next waiter: no trip through the pool
    }
  }

  /**
   * Ends a lease at its deadline: cancels its statement on the server, closes the connection (its
   * state is unknown; a frozen server would never answer on it) and frees its slot. A cancel the
   * server does not answer within the acquire timeout means the target itself is unresponsive.
   */
  expire(lease: Lease): void {
    const l = lease as LaneLease;
    if (l.released || l.expired) return;
    l.expired = true;
    void sendCancel(l.client, this.config.acquireTimeoutMs).then((answered) => {
      if (!answered && !this.closed) this.onUnresponsive();
    });
    this.giveBack(l, true);
  }

  /** A client handed over directly, or null: a permit to take one from the pool. */
  private permit(deadline: number): Promise<pg.PoolClient | null> | null {
    if (this.permits > 0 && this.queue.length === 0) {
      this.permits--;
      return null;
    }
    if (this.queue.length >= this.config.queueMax) {
      return Promise.reject(
        new PgpressError('PGP_POOL_TIMEOUT', `The ${this.name} lane of ${this.target} is saturated (${this.config.queueMax} callers already waiting).`, {
          details: { target: this.target, lane: this.name },
        }),
      );
    }
    const until = Math.min(deadline, Date.now() + this.config.acquireTimeoutMs);
    if (until <= Date.now()) return Promise.reject(this.timeoutError());
    return new Promise<pg.PoolClient | null>((resolve, reject) => {
      this.queue.push({ until, resolve, reject });
      // Each waiter fails at its own deadline: one armed for a later one must not hold it.
      if (until < this.waitTimerAt) this.armWaitTimer(until);
    });
  }

  // One timer for all waiters, armed for the earliest deadline: a timer per waiter costs
  // measurable throughput when callers outnumber connections.
  private armWaitTimer(at: number): void {
    clearTimeout(this.waitTimer);
    this.waitTimerAt = at;
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.waitTimerAt = Infinity;
      const now = Date.now();
      let next = Infinity;
      for (let i = 0; i < this.queue.length; ) {
        const w = this.queue[i]!;
        if (w.until <= now) {
          this.queue.splice(i, 1);
          w.reject(this.timeoutError());
        } else {
          next = Math.min(next, w.until);
          i++;
        }
      }
      if (next !== Infinity) this.armWaitTimer(next);
    }, Math.max(0, at - Date.now()));
  }

  private timeoutError(): PgpressError {
    return new PgpressError('PGP_POOL_TIMEOUT', `No connection of the ${this.name} lane of ${this.target} became free before the deadline.`, {
      details: { target: this.target, lane: this.name },
    });
  }

  /**
   * Gives a freed client (or permit) to the first waiter still within its deadline, or keeps the
   * permit. Waiters past their deadline (their timer not run yet: a busy event loop) fail here, so
   * no caller is handed a connection, and sends a statement, after its deadline.
   */
  private handOn(client: pg.PoolClient | null): void {
    let next = this.queue.shift();
    if (next && next.until <= Date.now()) {
      const now = Date.now();
      while (next && next.until <= now) {
        next.reject(this.timeoutError());
        next = this.queue.shift();
      }
    }
    if (next) return next.resolve(client);
    if (client) {
      client.removeListener('error', swallow);
      client.release();
    }
    this.permits++;
  }

  private async connect(deadline: number): Promise<pg.PoolClient> {
    // Holding a permit means the pool has a free slot; only opening a new connection can be slow.
    const waitMs = deadline - Date.now();
    // pg-pool's own timeout (acquireTimeoutMs) bounds the call when the deadline is no nearer: skip our timer.
    // No deadline (Infinity, as the maintenance lock asks): no timer either — setTimeout would fire at once.
    if (waitMs === Infinity || (this.pool.idleCount > 0 && waitMs >= this.config.acquireTimeoutMs)) {
      try {
        return await this.pool.connect();
      } catch (e) {
        throw connectFailure(`Cannot connect to ${this.target}: ${(e as Error).message}`, e);
      }
    }
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
    const leakMs = this.config.leakThresholdMs;
    for (const h of this.held) {
      if (h.deadline <= now) {
        this.expire(h);
        continue;
      }
      if (leakMs <= 0 || h.reported || now - h.since < leakMs) continue;
      h.reported = true;
      this.onLeak({ target: this.target, lane: this.name, heldMs: now - h.since, stack: h.trace.stack });
    }
  }

  /**
   * Drains and closes: waiters fail at once (PGP_DB_UNAVAILABLE); leased connections may finish
   * their work within graceMs (their deadlines still apply); any still leased then is expired
   * (cancelled on the server, closed); then the pool ends, bounded: a stopped server cannot hang it.
   */
  async close(graceMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.waitTimer);
    for (const w of this.queue.splice(0)) {
      w.reject(new PgpressError('PGP_DB_UNAVAILABLE', 'The cluster has been closed.'));
    }
    if (this.held.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
        this.drained = resolve;
      });
      clearTimeout(timer);
      this.drained = undefined;
      for (const l of [...this.held]) this.expire(l);
    }
    clearInterval(this.sweeper);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.pool.end().catch(() => undefined),
      new Promise<void>((r) => {
        timer = setTimeout(r, POOL_END_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }
}
