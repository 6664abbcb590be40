// The process's one prom-client registry and the application metrics registered in it; GET
// /metrics (src/http/routes/metrics.ts) serves it with the database collectors' registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BatchedHistogram } from './batchedHistogram.ts';

/** The registry every pgpress metric lives in. */
export const registry = new Registry();

/** Something that reports pool and replica figures when metrics are scraped (a Cluster). */
export interface DbMetricsSource {
  lanes(): { target: string; lane: string; max?: number; inUse: number; idle: number; waiting: number }[];
  targets(): { target: string; breaker: 'closed' | 'open' | 'half-open'; lagSeconds: number | undefined }[];
}

/** The database metrics: per lane and per target, bounded labels only. */
export interface DbMetrics {
  acquireSeconds: Histogram<'target' | 'lane'>;
  errors: Counter<'target' | 'class'>;
  retries: Counter<'target' | 'kind'>;
  leaks: Counter<'target' | 'lane'>;
  outcomeUnknown: Counter<'target'>;
  /** Calls that failed with PGP_DEADLINE_EXCEEDED. */
  deadlineExceeded: Counter<'target'>;
  /** Adds a live source (returns a function that removes it). */
  addSource(s: DbMetricsSource): () => void;
}

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Creates and registers the database metrics in reg. */
export function createDbMetrics(reg: Registry): DbMetrics {
  const sources = new Set<DbMetricsSource>();
  new Gauge({
    name: 'pgpress_db_connections',
    help: 'Connections per target and lane, by state (in_use, idle, waiting callers).',
    labelNames: ['target', 'lane', 'state'],
    registers: [reg],
    collect() {
      this.reset();
      for (const s of sources) {
        for (const l of s.lanes()) {
          this.set({ target: l.target, lane: l.lane, state: 'in_use' }, l.inUse);
          this.set({ target: l.target, lane: l.lane, state: 'idle' }, l.idle);
          this.set({ target: l.target, lane: l.lane, state: 'waiting' }, l.waiting);
        }
      }
    },
  });
  new Gauge({
    name: 'pgpress_db_pool_utilisation_ratio',
    help: 'Connections in use per target and lane as a share (0-1) of the lane\'s maximum.',
    labelNames: ['target', 'lane'],
    registers: [reg],
    collect() {
      this.reset();
      for (const s of sources) for (const l of s.lanes()) if (l.max) this.set({ target: l.target, lane: l.lane }, l.inUse / l.max);
    },
  });
  new Gauge({
    name: 'pgpress_db_breaker_state',
    help: 'Circuit breaker per target: 0 closed, 1 half-open, 2 open.',
    labelNames: ['target'],
    registers: [reg],
    collect() {
      this.reset();
      for (const s of sources) for (const t of s.targets()) this.set({ target: t.target }, BREAKER_VALUE[t.breaker]);
    },
  });
  new Gauge({
    name: 'pgpress_db_replica_lag_seconds',
    help: 'Replay lag of each replica as the monitor last measured it.',
    labelNames: ['target'],
    registers: [reg],
    collect() {
      this.reset();
      for (const s of sources) for (const t of s.targets()) if (t.lagSeconds !== undefined) this.set({ target: t.target }, t.lagSeconds);
    },
  });
  return {
    acquireSeconds: new Histogram({
      name: 'pgpress_db_acquire_seconds',
      help: 'Time to obtain a pooled connection, per target and lane.',
      labelNames: ['target', 'lane'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [reg],
    }),
    errors: new Counter({ name: 'pgpress_db_errors_total', help: 'Database errors per target by SQLSTATE class (two characters; "none" without SQLSTATE).', labelNames: ['target', 'class'], registers: [reg] }),
    retries: new Counter({ name: 'pgpress_db_retries_total', help: 'Retries per target by kind (connection, contention, notPrimary).', labelNames: ['target', 'kind'], registers: [reg] }),
    leaks: new Counter({ name: 'pgpress_db_connection_leaks_total', help: 'Connections held past the leak threshold.', labelNames: ['target', 'lane'], registers: [reg] }),
    outcomeUnknown: new Counter({ name: 'pgpress_db_outcome_unknown_total', help: 'Writes whose connection failed with the outcome unknown.', labelNames: ['target'], registers: [reg] }),
    deadlineExceeded: new Counter({ name: 'pgpress_db_deadline_exceeded_total', help: 'Calls that failed with PGP_DEADLINE_EXCEEDED, per target.', labelNames: ['target'], registers: [reg] }),
    addSource(s) {
      sources.add(s);
      return () => sources.delete(s);
    },
  };
}

let defaultDb: DbMetrics | undefined;

/** The database metrics in the process registry (created on first use). */
export function dbMetrics(): DbMetrics {
  return (defaultDb ??= createDbMetrics(registry));
}

/** The HTTP protection metrics: requests refused under load or by the rate limit, and skipped checks. */
export interface HttpMetrics {
  /** Requests shed with 503 (reason: event_loop, pool, queue_full, queue_timeout). */
  shed: Counter<'reason'>;
  /** Admission control: requests holding a slot, waiting for one (gauges of `live`), the slots, and the waits. */
  admissionInFlight: Gauge;
  admissionQueued: Gauge;
  admissionLimit: Gauge;
  admissionWait: BatchedHistogram<never>;
  /** Requests refused with 429 by the rate limit. */
  rateLimited: Counter;
  /** Rate-limit checks that failed (Redis slow or down) and let the request through. */
  rateLimitFailures: Counter;
  /** Request durations by route template, method and status class. */
  requestDuration: BatchedHistogram<'method' | 'route' | 'status_class'>;
  /** Requests being handled (a gauge of `live`). */
  inFlight: Gauge;
  /** What the in-flight and admission gauges show, as plain numbers: the hot path moves these and
   *  the gauges read them when scraped (Gauge.inc/dec hash their labels on every call). */
  live: { inFlight: number; admitted: number; queued: number };
  /** Requests answered 504 (PGP_DEADLINE_EXCEEDED). */
  deadlineExceeded: Counter;
}

let defaultHttp: HttpMetrics | undefined;

/** The HTTP metrics in the process registry (created on first use). */
export function httpMetrics(): HttpMetrics {
  if (defaultHttp) return defaultHttp;
  const live = { inFlight: 0, admitted: 0, queued: 0 };
  return (defaultHttp = {
    live,
    shed: new Counter({ name: 'pgpress_http_shed_total', help: 'Requests shed with 503 under pressure, by reason (event_loop, pool, queue_full, queue_timeout).', labelNames: ['reason'], registers: [registry] }),
    admissionInFlight: new Gauge({ name: 'pgpress_http_admission_in_flight', help: 'Requests admitted and in progress (at most the admission limit).', registers: [registry], collect() { this.set(live.admitted); } }),
    admissionQueued: new Gauge({ name: 'pgpress_http_admission_queued', help: 'Requests waiting for an admission slot.', registers: [registry], collect() { this.set(live.queued); } }),
    admissionLimit: new Gauge({ name: 'pgpress_http_admission_limit', help: 'Requests admitted at once at most (ADMISSION_MAX_IN_FLIGHT).', registers: [registry] }),
    admissionWait: new BatchedHistogram({
      name: 'pgpress_http_admission_wait_seconds',
      help: 'Time admitted requests waited for a slot (0: admitted at once).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    rateLimited: new Counter({ name: 'pgpress_http_rate_limited_total', help: 'Requests refused with 429 by the rate limit.', registers: [registry] }),
    rateLimitFailures: new Counter({ name: 'pgpress_http_rate_limit_failures_total', help: 'Rate-limit checks that failed (Redis slow or down) and let the request through.', registers: [registry] }),
    requestDuration: new BatchedHistogram({
      name: 'pgpress_http_request_duration_seconds',
      help: 'HTTP request duration by method, route template (unmatched: no route) and status class (2xx…5xx).',
      labelNames: ['method', 'route', 'status_class'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: 'pgpress_http_requests_in_flight', help: 'HTTP requests being handled.', registers: [registry], collect() { this.set(live.inFlight); } }),
    deadlineExceeded: new Counter({ name: 'pgpress_http_deadline_exceeded_total', help: 'HTTP requests answered 504 (PGP_DEADLINE_EXCEEDED).', registers: [registry] }),
  });
}

let processMetrics = false;

/** Adds prom-client's process metrics (CPU, memory, event-loop delay, GC) with the pgpress_ prefix, once. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry, prefix: 'pgpress_' });
}

/** The scheduler's metrics: per job (a fixed set of names, label `task`: Prometheus keeps `job` for the
 *  scrape job and would rename ours to exported_job), and whether this instance leads. */
export interface JobMetrics {
  /** Runs by job and outcome (ok, skipped, failed). */
  runs: Counter<'task' | 'outcome'>;
  failures: Counter<'task'>;
  duration: Histogram<'task'>;
  lastSuccess: Gauge<'task'>;
  /** 1 while this instance holds the scheduler's leader lock. */
  leader: Gauge;
}

/** Creates and registers the job metrics in reg. */
export function createJobMetrics(reg: Registry): JobMetrics {
  return {
    runs: new Counter({ name: 'pgpress_job_runs_total', help: 'Scheduled job runs by job (label task) and outcome (ok, skipped, failed).', labelNames: ['task', 'outcome'], registers: [reg] }),
    failures: new Counter({ name: 'pgpress_job_failures_total', help: 'Scheduled job runs that failed, by job (label task).', labelNames: ['task'], registers: [reg] }),
    duration: new Histogram({ name: 'pgpress_job_duration_seconds', help: 'Duration of scheduled job runs, by job (label task).', labelNames: ['task'], buckets: [0.01, 0.1, 0.5, 1, 5, 30, 120, 600, 3600], registers: [reg] }),
    lastSuccess: new Gauge({ name: 'pgpress_job_last_success_timestamp_seconds', help: 'Unix time of the last successful run of each job (label task; by this instance).', labelNames: ['task'], registers: [reg] }),
    leader: new Gauge({ name: 'pgpress_scheduler_leader', help: '1 while this instance is the scheduler leader, else 0.', registers: [reg] }),
  };
}

let defaultJobs: JobMetrics | undefined;

/** The job metrics in the process registry (created on first use). */
export function jobMetrics(): JobMetrics {
  return (defaultJobs ??= createJobMetrics(registry));
}
