// Cluster: the one way content code reaches PostgreSQL. Writes go to the primary through one of
// three lanes; reads marked `read: true` may go to a replica that is fresh enough. Every call has
// a deadline, is retried by the SQLSTATE table within a budget, and passes its target's breaker.
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import pg from 'pg';
import { PgpressError, fromPgError, sqlstateOf } from '../errors/index.ts';
import { dbMetrics, type DbMetrics } from '../observability/metrics.ts';
import { AttemptFailure, unwrapAttempt } from './attempt.ts';
import { TargetBreaker } from './breaker.ts';
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './clusterOptions.ts';
import { deadlineGuard } from './deadlineGuard.ts';
import { clusterHealth, type TargetHealth } from './health.ts';
import { LANE_NAMES, Lane, captureCaller, connectFailure, type CallerTrace, type LaneName, type Lease, type LeakReport } from './lane.ts';
import { isLsn, maxLsn, parseLsn } from './lsn.ts';
import { ReplicaMonitor } from './replicaMonitor.ts';
import { markDown, type ReplicaStatus } from './replicaSet.ts';
import { selectReplica } from './replicaSelector.ts';
import { RetryBudget } from './retryBudget.ts';
import { mayRetry, outcomeUnknown, retryRule, type RetryRule, type WorkKind } from './retryPolicy.ts';
import { noteCommit, type ConsistencySession } from './session.ts';
import type { NamedQuery } from './sql.ts';

export type { ClusterOptions } from './clusterOptions.ts';
export type { LaneName } from './lane.ts';

/** Per-call options. */
export interface QueryOptions {
  /** Which primary lane (default 'default'). */
  lane?: LaneName | undefined;
  /** The whole call, retries included, must finish within this many ms. */
  deadlineMs?: number | undefined;
  /** An idempotent read: may be retried and may run on a replica. */
  read?: boolean | undefined;
  /** Read-your-writes token (an LSN): a replica serves the read only once it has replayed it. */
  token?: string | undefined;
  /** The caller's consistency session: its token applies to the read as well. */
  session?: ConsistencySession | undefined;
}

/** A query runner: a Cluster or the client of an open transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(q: NamedQuery, params?: readonly unknown[], opts?: QueryOptions): Promise<pg.QueryResult<R>>;
}

/** Context and limits of a transaction. */
export interface TxOptions {
  /** The acting user, exposed to SQL as current_setting('pgpress.actor_id'). */
  actorId?: string | undefined;
  lane?: LaneName | undefined;
  deadlineMs?: number | undefined;
  isolation?: 'read committed' | 'repeatable read' | 'serializable' | undefined;
  /** The caller's consistency session: the commit's LSN becomes its token. */
  session?: ConsistencySession | undefined;
}

/** The result of a transaction: the function's value and the commit's WAL position. */
export interface TxResult<T> {
  value: T;
  /** pg_current_wal_insert_lsn() after commit: a read-your-writes token. */
  lsn: string;
}

const BEGIN = {
  'read committed': 'BEGIN',
  'repeatable read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
} as const;
// One round trip: COMMIT, then the position of the commit record (a later statement of the same message).
const COMMIT_AND_LSN = 'COMMIT; SELECT pg_current_wal_insert_lsn()::text AS lsn';
const SET_ACTOR = 'SELECT set_config($1, $2, true)';
const SET_STATEMENT_TIMEOUT = "SELECT set_config('statement_timeout', $1, true)";
const REPLAY_LSN = 'SELECT pg_last_wal_replay_lsn()::text AS lsn';

interface Replica {
  name: string;
  url: string;
  lane: Lane;
  breaker: TargetBreaker;
  status: ReplicaStatus;
}

const NO_TRACE: CallerTrace = {};
const NO_OPTIONS: QueryOptions = Object.freeze({});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Primary lanes, replicas, retry, breakers and health behind query() and tx(). */
export class Cluster implements Queryable {
  /** The default lane's pool (kept for callers of v1). */
  readonly pool: pg.Pool;
  readonly lanes: Readonly<Record<LaneName, Lane>>;
  private readonly opts: ResolvedClusterOptions;
  private readonly primaryBreaker: TargetBreaker;
  private readonly replicas: Replica[];
  private readonly monitor: ReplicaMonitor | undefined;
  private readonly budget: RetryBudget;
  private readonly metrics: DbMetrics;
  private readonly backoffs = new Map<RetryRule, ExponentialBackoff<unknown>>();
  private readonly removeSource: () => void;
  private monitorStarted: Promise<void> | undefined;
  private readonly leakChecks: boolean;
  private readonly leakStackEvery: number;
  private leakSeen = false;
  private calls = 0;
  private closed = false;

  constructor(private readonly options: ClusterOptions) {
    const o = (this.opts = resolveClusterOptions(options));
    this.metrics = options.metrics ?? dbMetrics();
    const onLeak = (r: LeakReport): void => {
      this.leakSeen = true;
      this.metrics.leaks.inc({ target: r.target, lane: r.lane });
      const where = r.stack ?? '(that call was not sampled; stacks are captured for every call from now on)';
      (options.onLeak ?? ((l: LeakReport) => process.emitWarning(`pgpress: a ${l.lane} connection to ${l.target} has been held ${l.heldMs}ms; taken at:\n${where}`, 'PgpressLeakWarning')))(r);
    };
    const poolConfig = (url: string): pg.PoolConfig => ({ connectionString: url, application_name: o.applicationName });
    const lanes = {} as Record<LaneName, Lane>;
    const primaryUnresponsive = (): void => countFailure(this.primaryBreaker);
    for (const name of LANE_NAMES) lanes[name] = new Lane('primary', name, o.lanes[name], poolConfig(options.url), onLeak, primaryUnresponsive);
    this.lanes = lanes;
    this.pool = lanes.default.pool;
    this.leakStackEvery = Math.max(1, options.leakStackEvery ?? 64);
    this.leakChecks = [...LANE_NAMES.map((l) => o.lanes[l]), o.replicaLane].some((l) => l.leakThresholdMs > 0);
    this.primaryBreaker = new TargetBreaker('primary', o.breaker, options.url);
    const urls = options.replicaUrls ?? [];
    const names = urls.map((_, i) => `replica${i + 1}`);
    this.monitor = urls.length > 0 ? new ReplicaMonitor(options.url, urls.map((url, i) => ({ name: names[i]!, url })), {
      ...o.replicas,
      intervalMs: o.replicas.monitorIntervalMs,
    }) : undefined;
    this.replicas = urls.map((url, i) => {
      const breaker = new TargetBreaker(names[i]!, o.breaker, url);
      return {
        name: names[i]!,
        url,
        lane: new Lane(names[i]!, 'default', o.replicaLane, poolConfig(url), onLeak, () => countFailure(breaker)),
        breaker,
        status: this.monitor!.replicas[i]!,
      };
    });
    this.budget = new RetryBudget({ ratio: o.retry.budgetRatio, minPerWindow: o.retry.budgetMinPerWindow, windowMs: o.retry.budgetWindowMs });
    this.removeSource = this.metrics.addSource({
      lanes: () => [
        ...LANE_NAMES.map((l) => ({ target: 'primary', lane: l, ...this.lanes[l].stats() })),
        ...this.replicas.map((r) => ({ target: r.name, lane: 'default', ...r.lane.stats() })),
      ],
      targets: () => [
        { target: 'primary', breaker: this.primaryBreaker.state, lagSeconds: undefined },
        ...this.replicas.map((r) => ({ target: r.name, breaker: r.breaker.state, lagSeconds: r.status.lagMs === undefined ? undefined : r.status.lagMs / 1000 })),
      ],
    });
    // Replica reads wait for the first probe round; without replicas nothing runs in the background.
    if (this.monitor) this.monitorStarted = this.monitor.start().catch(() => undefined);
  }

  /** Resolves once the replica monitor has probed every target once (at once without replicas). */
  async ready(): Promise<void> {
    await this.monitorStarted;
  }

  /**
   * Sends one statement on client. A pg.Query with a callback, not a config object: pg copies a
   * config through property descriptors and wraps its promise in a second one, together ~7 µs of
   * the ~65 µs of server CPU an API point read took (`npm run bench -- api`).
   */
  private send<R extends pg.QueryResultRow>(client: pg.ClientBase, q: NamedQuery, params: readonly unknown[]): Promise<pg.QueryResult<R>> {
    return new Promise((resolve, reject) => {
      const query = new pg.Query(q.text, params as unknown[], (err, res) => (err ? reject(err) : resolve(res as unknown as pg.QueryResult<R>)));
      if (this.opts.namedStatements) (query as unknown as { name: string }).name = q.name;
      void client.query(query);
    });
  }

  private deadlineOf(lane: LaneName, deadlineMs: number | undefined): number {
    const l = this.opts.lanes[lane];
    return Date.now() + (deadlineMs ?? l.acquireTimeoutMs + (l.statementTimeoutMs || 30_000));
  }

  /** Runs one statement. Reads (`read: true`) may use a replica; others run on the primary. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[] = [], opts: QueryOptions = NO_OPTIONS): Promise<pg.QueryResult<R>> {
    if (this.closed) return Promise.reject(new PgpressError('PGP_DB_UNAVAILABLE', 'The cluster has been closed.'));
    const lane = opts.lane ?? 'default';
    const deadline = this.deadlineOf(lane, opts.deadlineMs);
    const trace = this.trace(this.query);
    if (opts.read && this.replicas.length > 0) return this.readAnywhere<R>(q, params, opts, lane, deadline, trace);
    return this.onPrimary<R>(q, params, opts.read ? 'read' : 'write', lane, deadline, trace);
  }

  private onPrimary<R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[], kind: WorkKind, lane: LaneName, deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R>> {
    const primary = this.lanes[lane];
    return this.withRetry('primary', this.primaryBreaker, kind, deadline, () => this.statement<R>(primary, q, params, deadline, trace));
  }

  private async readAnywhere<R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[], opts: QueryOptions, lane: LaneName, deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R>> {
    const viaReplica = await this.tryReplica<R>(q, params, opts, deadline, trace);
    return viaReplica ?? this.onPrimary<R>(q, params, 'read', lane, deadline, trace);
  }

  /** Runs fn inside BEGIN … COMMIT on one primary connection; on a retryable failure re-runs all of fn. */
  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<TxResult<T>> {
    this.assertOpen();
    const lane = this.lanes[opts.lane ?? 'default'];
    const deadline = this.deadlineOf(lane.name, opts.deadlineMs);
    const trace = this.trace(this.tx);
    const result = await this.withRetry('primary', this.primaryBreaker, 'tx', deadline, () => this.txOnce(lane, fn, opts, deadline, trace));
    noteCommit(opts.session, result.lsn);
    this.monitor?.noteCommit(result.lsn);
    return result;
  }

  private async txOnce<T>(lane: Lane, fn: (q: Queryable) => Promise<T>, opts: TxOptions, deadline: number, trace: CallerTrace): Promise<TxResult<T>> {
    const lease = await this.lease(lane, deadline, trace);
    const client = lease.client;
    // The first statement error, kept in case fn swallows it and PostgreSQL rolls back at COMMIT.
    let firstError: unknown;
    const runner: Queryable = {
      query: async <R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[] = []) => {
        try {
          return await this.send<R>(client, q, params);
        } catch (e) {
          firstError ??= e;
          throw fromPgError(e);
        }
      },
    };
    let discard: Error | undefined;
    let stage: 'during' | 'commit' = 'during';
    const guard = deadlineGuard(lease, lane, deadline);
    try {
      await guard.run(client.query(BEGIN[opts.isolation ?? 'read committed']));
      if (opts.actorId !== undefined) {
        // set_config(..., true) is SET LOCAL with a bind parameter: it ends with the transaction.
        await guard.run(client.query(SET_ACTOR, ['pgpress.actor_id', opts.actorId]));
      }
      if (guard.tight) await guard.run(client.query(SET_STATEMENT_TIMEOUT, [String(Math.max(1, deadline - Date.now()))]));
      const value = await guard.run(fn(runner));
      stage = 'commit';
      const results = (await guard.run(client.query(COMMIT_AND_LSN))) as unknown as pg.QueryResult<{ lsn: string }>[];
      // An aborted transaction answers COMMIT with the tag ROLLBACK: nothing was written.
      if (results[0]?.command !== 'COMMIT') {
        stage = 'during'; // a definite rollback, not a commit in doubt
        throw rolledBack(firstError);
      }
      return { value, lsn: results[1]?.rows[0]?.lsn ?? '' };
    } catch (e) {
      const expired = guard.expired || lease.expired;
      const err = expired ? guard.expiredError() : e;
      if (expired || retryRule(err)?.kind === 'connection') {
        discard = new Error('discarded'); // the connection's state is unknown: never reuse it
      } else {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          discard = rollbackError as Error;
        }
      }
      throw new AttemptFailure(stage, err);
    } finally {
      guard.clear();
      lease.release(discard);
    }
  }

  /** Acquires a lease, timing it; failures are marked as 'before' (nothing reached the server). */
  /**
   * The caller's frames for leak reports, taken while they are still on the synchronous stack.
   * Measured here: a stack capture under async stack traces costs 10–20 µs, a third of a point
   * read, so only every leakStackEvery-th call is captured until the first leak is seen; from
   * then on every call is, so the next report carries the stack.
   */
  private trace(entry: (...args: never[]) => unknown): CallerTrace {
    if (!this.leakChecks) return NO_TRACE;
    if (!this.leakSeen && this.calls++ % this.leakStackEvery !== 0) return NO_TRACE;
    return captureCaller(entry);
  }

  private async lease(lane: Lane, deadline: number, trace: CallerTrace): Promise<Lease> {
    const t0 = performance.now();
    let lease: Lease;
    try {
      lease = await lane.acquire(deadline, trace);
    } catch (e) {
      throw new AttemptFailure('before', e);
    } finally {
      this.acquireTimer(lane).observe((performance.now() - t0) / 1000);
    }
    return notLate(lease, lane, deadline);
  }

  // Labelled children cached per lane: label hashing on every query is measurable in the benchmark.
  private readonly acquireTimers = new Map<Lane, ReturnType<DbMetrics['acquireSeconds']['labels']>>();
  private acquireTimer(lane: Lane): ReturnType<DbMetrics['acquireSeconds']['labels']> {
    let h = this.acquireTimers.get(lane);
    if (!h) this.acquireTimers.set(lane, (h = this.metrics.acquireSeconds.labels({ target: lane.target, lane: lane.name })));
    return h;
  }

  private async statement<R extends pg.QueryResultRow>(lane: Lane, q: NamedQuery, params: readonly unknown[], deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R>> {
    // this.lease() inlined: one async layer less on the hottest path.
    const t0 = performance.now();
    let lease: Lease;
    try {
      lease = await lane.acquire(deadline, trace);
    } catch (e) {
      throw new AttemptFailure('before', e);
    } finally {
      this.acquireTimer(lane).observe((performance.now() - t0) / 1000);
    }
    notLate(lease, lane, deadline);
    const guard = deadlineGuard(lease, lane, deadline);
    try {
      const r = await guard.run(this.send<R>(lease.client, q, params));
      lease.release();
      return r;
    } catch (e) {
      const expired = guard.expired || lease.expired;
      const err = expired ? guard.expiredError() : e;
      lease.release(expired || retryRule(err)?.kind === 'connection' || sqlstateOf(err) === undefined ? new Error('discarded') : undefined);
      throw new AttemptFailure('during', err);
    } finally {
      guard.clear();
    }
  }

  private withRetry<T>(target: string, breaker: TargetBreaker, kind: WorkKind, deadline: number, attempt: () => Promise<T>): Promise<T> {
    this.budget.recordRequest();
    // The first attempt without an async frame of its own: most calls succeed at once.
    return breaker.execute(attempt).catch((e: unknown) => this.retrying(target, breaker, kind, deadline, attempt, e));
  }

  private async retrying<T>(target: string, breaker: TargetBreaker, kind: WorkKind, deadline: number, attempt: () => Promise<T>, firstError: unknown): Promise<T> {
    let backoff: IBackoff<unknown> | undefined;
    let previous: unknown;
    for (let n = 1; ; n++) {
      try {
        if (n > 1) return await breaker.execute(attempt);
        throw firstError;
      } catch (raw) {
        const unwrapped = unwrapAttempt(raw);
        const { stage } = unwrapped;
        // The breaker opening during this call's own retries: report the failure that opened it.
        const circuitOpen = isPgpressErrorCode(unwrapped.error, 'PGP_CIRCUIT_OPEN');
        const error = previous !== undefined && circuitOpen ? previous : unwrapped.error;
        previous = error;
        const state = sqlstateOf(error);
        if (state !== undefined || !(error instanceof PgpressError)) this.metrics.errors.inc({ target, class: state?.slice(0, 2) ?? 'none' });
        const rule = retryRule(error);
        if (rule && !circuitOpen && n < this.opts.retry.maxAttempts && mayRetry(kind, stage, rule)) {
          backoff = backoff ? backoff.next(undefined) : this.backoffFor(rule).next();
          if (Date.now() + backoff.duration < deadline && this.budget.tryRetry()) {
            this.metrics.retries.inc({ target, kind: rule.kind });
            await sleep(backoff.duration);
            continue;
          }
        }
        if (outcomeUnknown(kind, stage, error)) {
          this.metrics.outcomeUnknown.inc({ target });
          throw new PgpressError('PGP_OUTCOME_UNKNOWN', 'The connection failed while the write was in flight; it may or may not have committed.', {
            cause: error,
            pg: { sqlstate: state },
          });
        }
        throw fromPgError(error);
      }
    }
  }

  private backoffFor(rule: RetryRule): ExponentialBackoff<unknown> {
    let b = this.backoffs.get(rule);
    if (!b) this.backoffs.set(rule, (b = new ExponentialBackoff({ initialDelay: rule.initialDelayMs, maxDelay: rule.maxDelayMs })));
    return b;
  }

  /** A read on a replica if one is fresh enough; undefined means "use the primary". */
  private async tryReplica<R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[], opts: QueryOptions, deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R> | undefined> {
    await this.monitorStarted;
    const tokenText = maxLsn(opts.token !== undefined && isLsn(opts.token) ? opts.token : undefined, opts.session?.token);
    // A token beyond the primary's WAL position (forged) is clamped to it: see boundToken.
    const token = tokenText === undefined ? undefined : await this.monitor!.boundToken(parseLsn(tokenText), Math.floor((deadline - Date.now()) / 2));
    const sel = selectReplica(this.replicas.map((r) => ({ status: r.status, breaker: r.breaker.state })), token);
    if (sel.kind === 'none') return undefined;
    const replica = this.replicas.find((r) => r.status === sel.replica)!;
    // Half the remaining time at most: a frozen replica must leave time to ask the primary.
    const sub = Date.now() + Math.floor((deadline - Date.now()) / 2);
    replica.status.inFlight++;
    try {
      return await replica.breaker.execute(() => this.replicaRead<R>(replica, q, params, sel.kind === 'wait' ? token : undefined, sub, trace));
    } catch (raw) {
      const { error } = unwrapAttempt(raw);
      if (error instanceof NotCaughtUp) return undefined;
      const state = sqlstateOf(error);
      const failing = retryRule(error)?.kind === 'connection' || (isPgpressErrorCode(error, 'PGP_DEADLINE_EXCEEDED') && state === undefined);
      if (failing) markDown(replica.status, (error as Error).message);
      // Errors that are the statement's own fault (syntax, bad value) would fail on the primary too.
      if (state !== undefined && retryRule(error) === undefined && !failing && state !== '57014') throw fromPgError(error);
      return undefined;
    } finally {
      replica.status.inFlight--;
    }
  }

  private async replicaRead<R extends pg.QueryResultRow>(replica: Replica, q: NamedQuery, params: readonly unknown[], waitFor: bigint | undefined, deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R>> {
    const lease = await this.lease(replica.lane, deadline, trace);
    const guard = deadlineGuard(lease, replica.lane, deadline);
    let discard: Error | undefined;
    try {
      if (waitFor !== undefined) {
        const until = Math.min(deadline, Date.now() + this.opts.replicas.rywWaitMs);
        for (;;) {
          const { rows } = await guard.run(lease.client.query<{ lsn: string | null }>(REPLAY_LSN));
          const replay = rows[0]?.lsn ? parseLsn(rows[0].lsn) : 0n;
          this.monitor!.noteReplay(replica.status, replay);
          if (replay >= waitFor) break;
          if (Date.now() + 10 >= until) throw new NotCaughtUp();
          await sleep(10);
        }
      }
      return await guard.run(this.send<R>(lease.client, q, params));
    } catch (e) {
      if (e instanceof NotCaughtUp) throw e;
      const expired = guard.expired || lease.expired;
      const err = expired ? guard.expiredError() : e;
      if (expired || retryRule(err)?.kind === 'connection' || sqlstateOf(err) === undefined) discard = new Error('discarded');
      throw new AttemptFailure('during', err);
    } finally {
      guard.clear();
      lease.release(discard);
    }
  }

  /** Health of the primary and each replica (state, lag, breaker, lanes), probed now. */
  async health(): Promise<TargetHealth[]> {
    const primaryUp = await this.ping();
    if (this.monitor) await this.monitor.refresh();
    return clusterHealth({
      primaryUrl: this.options.url,
      primaryUp,
      primaryBreaker: this.primaryBreaker.state,
      lanes: Object.fromEntries(LANE_NAMES.map((l) => [l, this.lanes[l].stats()])),
      replicas: this.replicas.map((r) => ({ url: r.url, status: r.status, breaker: r.breaker.state, lane: r.lane.stats() })),
    });
  }

  /** True when the primary answers a trivial query (on the critical lane, within 2 s). */
  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const lease = await this.lanes.critical.acquire(Date.now() + 2_000);
      try {
        await lease.client.query('SELECT 1');
        lease.release();
      } catch (e) {
        lease.release(e as Error);
        throw e;
      }
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Drains and closes: new calls fail at once with PGP_DB_UNAVAILABLE, calls holding a connection
   * may finish within graceMs (default: the closeGraceMs option), then what still runs is cancelled
   * and every pool and the monitor end.
   */
  async close(graceMs: number = this.opts.closeGraceMs): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const b of [this.primaryBreaker, ...this.replicas.map((r) => r.breaker)]) b.dispose();
    await Promise.all([
      this.monitor?.stop(),
      ...LANE_NAMES.map((l) => this.lanes[l].close(graceMs)),
      ...this.replicas.map((r) => r.lane.close(graceMs)),
    ]);
    this.removeSource();
  }

  private assertOpen(): void {
    if (this.closed) throw new PgpressError('PGP_DB_UNAVAILABLE', 'The cluster has been closed.');
  }
}

class NotCaughtUp extends Error {}

/**
 * Counts one target failure on breaker: a lease expired and the server did not answer its cancel
 * (frozen, black-holed). It goes through the breaker's public execute(), so the breaker counts it
 * like a failed call; an open breaker ignores it.
 */
function countFailure(breaker: TargetBreaker): void {
  breaker.execute(() => Promise.reject(connectFailure(`${breaker.target} did not answer a cancel request in time.`))).catch(() => undefined);
}

/** The lease, or (released) a 'before' failure when the deadline has passed: nothing is sent late. */
function notLate(lease: Lease, lane: Lane, deadline: number): Lease {
  if (deadline > Date.now()) return lease;
  lease.release();
  throw new AttemptFailure('before', new PgpressError('PGP_DEADLINE_EXCEEDED', `The deadline passed before a connection of the ${lane.name} lane of ${lane.target} was ready; nothing was sent.`, {
    details: { target: lane.target, lane: lane.name },
  }));
}

/** PGP_TX_ROLLED_BACK carrying the statement error fn swallowed (its SQLSTATE decides a retry). */
function rolledBack(swallowed: unknown): PgpressError {
  const cause = swallowed === undefined ? undefined : fromPgError(swallowed);
  const what = cause?.pg?.sqlstate ? ` (SQLSTATE ${cause.pg.sqlstate})` : '';
  return new PgpressError('PGP_TX_ROLLED_BACK', `PostgreSQL rolled the transaction back at COMMIT: a statement in it failed${what} and the transaction function went on without rethrowing.`, {
    cause,
    pg: cause?.pg ?? {},
  });
}

function isPgpressErrorCode(e: unknown, code: string): boolean {
  return e instanceof PgpressError && e.code === code;
}
