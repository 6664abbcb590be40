// Cluster: the one way content code reaches PostgreSQL. Writes go to the primary through one of
// three lanes; reads marked `read: true` may go to a replica that is fresh enough. Every call has
// a deadline, is retried by the SQLSTATE table within a budget, and passes its target's breaker.
// This file wires the parts together; each concern lives in its own file: statement.ts (one
// statement, the hot path), transaction.ts (tx and COMMIT), retryLoop.ts, replicaRouting.ts
// (replicas and read-your-writes), connectionRule.ts (discard a connection?), ping.ts and health.ts,
// clusterTopology.ts (several nodes: find and follow the primary, every node a read candidate).
import type pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { dbMetrics } from '../observability/metrics.ts';
import { TargetBreaker } from './breaker.ts';
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './clusterOptions.ts';
import { clusterTopology, type ClusterTopology } from './clusterTopology.ts';
import { clusterHealth, type TargetHealth } from './health.ts';
import { LANE_NAMES, Lane, connectFailure, type CallerTrace, type LaneName } from './lane.ts';
import { LeakReporter } from './leakReporting.ts';
import { ping } from './ping.ts';
import type { Queryable, QueryOptions, TxOptions, TxResult } from './queryable.ts';
import { ReplicaMonitor } from './replicaMonitor.ts';
import { ReplicaRouter, type Replica } from './replicaRouting.ts';
import { RetryLoop } from './retryLoop.ts';
import type { WorkKind } from './retryPolicy.ts';
import { noteCommit } from './session.ts';
import type { NamedQuery } from './sql.ts';
import { StatementRunner } from './statement.ts';
import { statementTxAttempt, transactionAttempt } from './transaction.ts';

export type { ClusterOptions } from './clusterOptions.ts';
export type { LaneName } from './lane.ts';
export type { Queryable, QueryOptions, TxOptions, TxResult } from './queryable.ts';

const NO_OPTIONS: QueryOptions = Object.freeze({});
/** ping() waits at most this long (on the critical lane). */
const PING_TIMEOUT_MS = 2_000;

/** Primary lanes, replicas, retry, breakers and health behind query() and tx(). */
export class Cluster implements Queryable {
  /** The default lane's pool (kept for callers of v1). */
  readonly pool: pg.Pool;
  readonly lanes: Readonly<Record<LaneName, Lane>>;
  private readonly opts: ResolvedClusterOptions;
  /** With a topology, replaced by a closed one when a new primary is found (calls reach it through topology.gate). */
  private primaryBreaker: TargetBreaker;
  private readonly topology: ClusterTopology | undefined;
  private readonly replicas: Replica[];
  private readonly monitor: ReplicaMonitor | undefined;
  private readonly router: ReplicaRouter | undefined;
  private readonly runner: StatementRunner;
  private readonly retry: RetryLoop;
  private readonly leaks: LeakReporter;
  private readonly removeSource: () => void;
  private readonly monitorStarted: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: ClusterOptions) {
    const o = (this.opts = resolveClusterOptions(options));
    const metrics = options.metrics ?? dbMetrics();
    const leakChecks = [...LANE_NAMES.map((l) => o.lanes[l]), o.replicaLane].some((l) => l.leakThresholdMs > 0);
    this.leaks = new LeakReporter(leakChecks, Math.max(1, options.leakStackEvery ?? 64), metrics, options.onLeak);
    const onLeak = this.leaks.onLeak;
    const poolConfig = (url: string): pg.PoolConfig => ({ connectionString: url, application_name: o.applicationName });
    const topology = (this.topology = clusterTopology(options, o));
    this.primaryBreaker = new TargetBreaker('primary', o.breaker, topology ? topology.primaryUrl() : options.url);
    const primaryUnresponsive = (): void => countFailure(this.primaryBreaker);
    const primaryPool = topology ? { ...poolConfig(topology.primaryUrl()), Client: topology.clientClass } : poolConfig(options.url);
    const lanes = {} as Record<LaneName, Lane>;
    for (const name of LANE_NAMES) lanes[name] = new Lane('primary', name, o.lanes[name], primaryPool, onLeak, primaryUnresponsive);
    this.lanes = lanes;
    this.pool = lanes.default.pool;
    this.runner = new StatementRunner(o.namedStatements, metrics);
    this.retry = new RetryLoop(o.retry, metrics);
    // With a topology every node is a read candidate: the monitor keeps the primary (not a standby) out of rotation.
    const urls = [...(topology?.nodeUrls ?? []), ...(options.replicaUrls ?? [])];
    const names = urls.map((_, i) => (topology && i < topology.nodeUrls.length ? `node${i + 1}` : `replica${i + 1 - (topology?.nodeUrls.length ?? 0)}`));
    this.monitor = urls.length > 0 ? new ReplicaMonitor(topology ? topology.primaryUrl() : options.url, urls.map((url, i) => ({ name: names[i]!, url })), {
      ...o.replicas,
      intervalMs: o.replicas.monitorIntervalMs,
      ...topology?.monitorHooks(names),
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
    this.removeSource = metrics.addSource({
      lanes: () => [
        ...LANE_NAMES.map((l) => ({ target: 'primary', lane: l, ...this.lanes[l].stats() })),
        ...this.replicas.map((r) => ({ target: r.name, lane: 'default', ...r.lane.stats() })),
      ],
      targets: () => [
        { target: 'primary', breaker: this.primaryBreaker.state, lagSeconds: undefined },
        ...this.replicas.map((r) => ({ target: r.name, breaker: r.breaker.state, lagSeconds: r.status.lagMs === undefined ? undefined : r.status.lagMs / 1000 })),
      ],
    });
    topology?.follow((url) => {
      // A new primary: a closed breaker probing it, and the monitor measuring lag against it.
      this.primaryBreaker.dispose();
      this.primaryBreaker = new TargetBreaker('primary', o.breaker, url);
      this.monitor?.setPrimary(url);
    });
    // Replica reads wait for the first probe round; without replicas nothing runs in the background.
    if (this.monitor) {
      this.monitorStarted = this.monitor.start().catch(() => undefined);
      this.router = new ReplicaRouter(this.replicas, this.monitor, this.runner, o.replicas.rywWaitMs, this.monitorStarted);
      // With Patroni, a member that joins later becomes a read candidate (rotation after the rejoin period); one gone stops being.
      const monitor = this.monitor;
      topology?.watchMembers((m) => {
        if (this.closed) return;
        for (const { name, url } of m.added) {
          const breaker = new TargetBreaker(name, o.breaker, url);
          this.replicas.push({ name, url, lane: new Lane(name, 'default', o.replicaLane, poolConfig(url), onLeak, () => countFailure(breaker)), breaker, status: monitor.addReplica(name, url) });
        }
        for (const name of m.removed) {
          const i = this.replicas.findIndex((r) => r.name === name);
          if (i < 0) continue;
          const gone = this.replicas.splice(i, 1)[0]!;
          monitor.removeReplica(name);
          gone.breaker.dispose();
          void gone.lane.close(o.closeGraceMs).catch(() => undefined);
        }
      });
    }
  }

  /** Resolves once the replica monitor has probed every target once (at once without replicas). */
  async ready(): Promise<void> {
    await Promise.all([this.monitorStarted, this.topology?.ready(this.opts.lanes.default.acquireTimeoutMs)]);
  }

  private deadlineOf(lane: LaneName, deadlineMs: number | undefined): number {
    const l = this.opts.lanes[lane];
    return Date.now() + (deadlineMs ?? l.acquireTimeoutMs + (l.statementTimeoutMs || 30_000));
  }

  /** Runs one statement. Reads (`read: true`) may use a replica; others run on the primary. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[] = [], opts: QueryOptions = NO_OPTIONS): Promise<pg.QueryResult<R>> {
    if (this.closed) return Promise.reject(closedError());
    const lane = opts.lane ?? 'default';
    const deadline = this.deadlineOf(lane, opts.deadlineMs);
    const trace = this.leaks.trace(this.query);
    if (opts.read && this.router) return this.readAnywhere<R>(this.router, q, params, opts, lane, deadline, trace);
    return this.onPrimary<R>(q, params, opts.read ? 'read' : 'write', lane, deadline, trace);
  }

  private onPrimary<R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[], kind: WorkKind, lane: LaneName, deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R>> {
    const primary = this.lanes[lane];
    const attempt = (): Promise<pg.QueryResult<R>> => this.runner.run<R>(primary, q, params, deadline, trace);
    if (!this.topology) return this.retry.run('primary', this.primaryBreaker, kind, deadline, attempt);
    return this.retry.run('primary', this.topology.gate(() => this.primaryBreaker, deadline), kind, deadline, this.topology.watch(attempt));
  }

  private async readAnywhere<R extends pg.QueryResultRow>(router: ReplicaRouter, q: NamedQuery, params: readonly unknown[], opts: QueryOptions, lane: LaneName, deadline: number, trace: CallerTrace): Promise<pg.QueryResult<R>> {
    const viaReplica = await router.read<R>(q, params, opts, deadline, trace);
    return viaReplica ?? this.onPrimary<R>(q, params, 'read', lane, deadline, trace);
  }

  /** Runs fn inside BEGIN … COMMIT on one primary connection; on a retryable failure re-runs all of fn. */
  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<TxResult<T>> {
    if (this.closed) throw closedError();
    const lane = this.lanes[opts.lane ?? 'default'];
    const deadline = this.deadlineOf(lane.name, opts.deadlineMs);
    const trace = this.leaks.trace(this.tx);
    const attempt = (): Promise<TxResult<T>> => transactionAttempt(this.runner, lane, fn, opts, deadline, trace);
    const gate = this.topology ? this.topology.gate(() => this.primaryBreaker, deadline) : this.primaryBreaker;
    const result = await this.retry.run('primary', gate, 'tx', deadline, this.topology ? this.topology.watch(attempt) : attempt);
    noteCommit(opts.session, result.lsn);
    this.monitor?.noteCommit(result.lsn);
    return result;
  }

  /**
   * One statement in its own transaction (BEGIN, the context of opts, the statement, COMMIT and
   * its LSN) in one network round trip; the same retry and outcome rules as tx() (transaction.ts).
   */
  async txStatement<R extends pg.QueryResultRow = pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[], opts: TxOptions = {}): Promise<TxResult<pg.QueryResult<R>>> {
    if (this.closed) throw closedError();
    const lane = this.lanes[opts.lane ?? 'default'];
    const deadline = this.deadlineOf(lane.name, opts.deadlineMs);
    const trace = this.leaks.trace(this.txStatement);
    const attempt = (): Promise<TxResult<pg.QueryResult<R>>> => statementTxAttempt<R>(this.runner, lane, q, params, opts, deadline, trace, this.opts.namedStatements);
    const gate = this.topology ? this.topology.gate(() => this.primaryBreaker, deadline) : this.primaryBreaker;
    const result = await this.retry.run('primary', gate, 'tx', deadline, this.topology ? this.topology.watch(attempt) : attempt);
    noteCommit(opts.session, result.lsn);
    this.monitor?.noteCommit(result.lsn);
    return result;
  }

  /** Health of the primary and each replica (state, lag, breaker, lanes), probed now. */
  async health(): Promise<TargetHealth[]> {
    const primaryUp = await this.ping();
    if (this.monitor) await this.monitor.refresh();
    return clusterHealth({
      primaryUrl: this.topology ? this.topology.primaryUrl() : this.options.url,
      primaryUp,
      primaryBreaker: this.primaryBreaker.state,
      lanes: Object.fromEntries(LANE_NAMES.map((l) => [l, this.lanes[l].stats()])),
      replicas: this.replicas.map((r) => ({ url: r.url, status: r.status, breaker: r.breaker.state, lane: r.lane.stats() })),
    });
  }

  /** True when the primary answers a trivial query (on the critical lane, within 2 s). */
  async ping(): Promise<boolean> {
    if (this.closed) return false;
    return ping(this.lanes.critical, PING_TIMEOUT_MS);
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
      this.topology?.close(),
      ...LANE_NAMES.map((l) => this.lanes[l].close(graceMs)),
      ...this.replicas.map((r) => r.lane.close(graceMs)),
    ]);
    this.removeSource();
  }
}

function closedError(): PgpressError {
  return new PgpressError('PGP_DB_UNAVAILABLE', 'The cluster has been closed.');
}

/**
 * Counts one target failure on breaker: a lease expired and the server did not answer its cancel
 * (frozen, black-holed). It goes through the breaker's public execute(), so the breaker counts it
 * like a failed call; an open breaker ignores it.
 */
function countFailure(breaker: TargetBreaker): void {
  breaker.execute(() => Promise.reject(connectFailure(`${breaker.target} did not answer a cancel request in time.`))).catch(() => undefined);
}
