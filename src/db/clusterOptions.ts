// Cluster options and their defaults: what callers may pass, and the fully resolved form.
import type { BreakerOptions } from './breaker.ts';
import type { LaneConfig, LaneName, LeakReport } from './lane.ts';
import type { DbMetrics } from '../observability/metrics.ts';

/** Replica routing settings. */
export interface ReplicaOptions {
  /** A replica lagging more than this leaves the rotation. */
  maxLagMs: number;
  /** A replica that left must stay healthy this long before it rejoins. */
  rejoinAfterMs: number;
  monitorIntervalMs: number;
  probeTimeoutMs: number;
  /** How long a read with a token waits for a replica to catch up before using the primary. */
  rywWaitMs: number;
  /** Pool size per replica. */
  max: number;
}

/** Retry settings. */
export interface RetryOptions {
  maxAttempts: number;
  budgetRatio: number;
  budgetMinPerWindow: number;
  budgetWindowMs: number;
}

/** What a Cluster needs to connect; everything but url has a default. */
export interface ClusterOptions {
  url: string;
  /** Streaming replicas for reads (`DATABASE_REPLICA_URLS`). */
  replicaUrls?: readonly string[];
  /** Patroni REST endpoints (`PATRONI_URLS`): the primary is Patroni's leader, confirmed with pg_is_in_recovery(). */
  patroniUrls?: readonly string[];
  /** The cluster's nodes when url names one host (with Patroni: see discoverPatroniNodes). */
  nodes?: readonly { host: string; port: number }[];
  /** Size of the default lane (the other lanes default to a quarter of it, at least 2). */
  max?: number;
  acquireTimeoutMs?: number;
  statementTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxLifetimeMs?: number;
  lifetimeJitter?: number;
  leakThresholdMs?: number;
  /** TCP keepalive on every connection: idle ms before the first probe (default 10 000). */
  keepAliveInitialDelayMs?: number;
  /** Capture the caller's stack on every n-th call (1 = every call) until the first leak; then on all. */
  leakStackEvery?: number;
  queueMax?: number;
  /** Per-lane overrides of the values above. */
  lanes?: Partial<Record<LaneName, Partial<LaneConfig>>>;
  /** close(): how long leased connections may finish their work before they are cancelled (default 5 000). */
  closeGraceMs?: number;
  /** Use named prepared statements (turn off behind PgBouncer in transaction mode). */
  namedStatements?: boolean;
  applicationName?: string;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  replicas?: Partial<ReplicaOptions>;
  /** Where metrics go (default: the process registry). */
  metrics?: DbMetrics;
  /** Called for each connection held past the leak threshold (default: a warning on stderr). */
  onLeak?: (r: LeakReport) => void;
}

/** Options with every default filled in. */
export interface ResolvedClusterOptions {
  lanes: Record<LaneName, LaneConfig>;
  replicaLane: LaneConfig;
  retry: RetryOptions;
  breaker: BreakerOptions;
  replicas: ReplicaOptions;
  namedStatements: boolean;
  applicationName: string;
  closeGraceMs: number;
}

/** Fills in defaults. */
export function resolveClusterOptions(o: ClusterOptions): ResolvedClusterOptions {
  const max = o.max ?? 16;
  const base: LaneConfig = {
    max,
    queueMax: o.queueMax ?? 1_000,
    acquireTimeoutMs: o.acquireTimeoutMs ?? 5_000,
    statementTimeoutMs: o.statementTimeoutMs ?? 30_000,
    idleTimeoutMs: o.idleTimeoutMs ?? 30_000,
    maxLifetimeMs: o.maxLifetimeMs ?? 30 * 60_000,
    lifetimeJitter: o.lifetimeJitter ?? 0.2,
    leakThresholdMs: o.leakThresholdMs ?? 60_000,
    keepAliveInitialDelayMs: o.keepAliveInitialDelayMs ?? 10_000,
  };
  const small = Math.max(2, Math.ceil(max / 4));
  const replicas: ReplicaOptions = {
    maxLagMs: 5_000,
    rejoinAfterMs: 5_000,
    monitorIntervalMs: 500,
    probeTimeoutMs: 1_000,
    rywWaitMs: 200,
    max,
    ...o.replicas,
  };
  return {
    lanes: {
      critical: { ...base, max: small, ...o.lanes?.critical },
      default: { ...base, ...o.lanes?.default },
      background: { ...base, max: small, ...o.lanes?.background },
    },
    replicaLane: { ...base, max: replicas.max },
    retry: { maxAttempts: 4, budgetRatio: 0.2, budgetMinPerWindow: 10, budgetWindowMs: 10_000, ...o.retry },
    breaker: { failureThreshold: 5, halfOpenAfterMs: 2_000, ...o.breaker },
    replicas,
    namedStatements: o.namedStatements ?? true,
    applicationName: o.applicationName ?? 'pgpress',
    closeGraceMs: o.closeGraceMs ?? 5_000,
  };
}
