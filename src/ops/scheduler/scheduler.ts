// The scheduler: one leader among every instance (leader.ts) runs the jobs that are due, one at a
// time; each run is claimed and recorded in pgpress_job_runs and counted in the job metrics.
import type { Cluster } from '../../db/cluster.ts';
import { isPgpressError } from '../../errors/index.ts';
import type { JobMetrics } from '../../observability/metrics.ts';
import { LeaderElection, type LeaderOptions } from './leader.ts';
import { claimDue, closeAbandoned, finishRun } from './queries.ts';
import type { JobDefinition } from './types.ts';

/** How a scheduler runs. */
export interface SchedulerOptions {
  /** The primary's URL for the dedicated leader-lock connection, or a source following the primary (resolved per connection). */
  url: LeaderOptions['url'];
  /** Jobs run on its background lane. */
  cluster: Cluster;
  jobs: readonly JobDefinition[];
  /** Followers try the leader lock, and the leader looks for due jobs, this often. */
  pollMs: number;
  lockTimeoutMs: number;
  /** Names this instance in the run history (host:pid by default). */
  instance: string;
  metrics?: JobMetrics;
  /** Reports leadership changes and job failures. */
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
  leaderKey?: bigint;
}

/** A finished run, as the scheduler saw it. */
export interface RunRecord {
  id: string;
  job: string;
  outcome: 'ok' | 'skipped' | 'failed';
  seconds: number;
}

/** Runs the due jobs while this instance leads. */
export class Scheduler {
  readonly election: LeaderElection;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly finished: RunRecord[] = [];

  constructor(private readonly opts: SchedulerOptions) {
    this.election = new LeaderElection({
      url: opts.url,
      pollMs: opts.pollMs,
      ...(opts.leaderKey !== undefined ? { key: opts.leaderKey } : {}),
      onChange: (leading) => {
        opts.metrics?.leader.set(leading ? 1 : 0);
        opts.log?.('info', leading ? 'scheduler: this instance leads' : 'scheduler: this instance no longer leads', { instance: opts.instance });
      },
      onError: (e) => opts.log?.('warn', 'scheduler: leader lock round failed', { err: e.message }),
    });
  }

  /** True while this instance is the leader. */
  get leading(): boolean {
    return this.election.leading;
  }

  /** Runs this scheduler finished (newest last), for tests and logs. */
  get runs(): readonly RunRecord[] {
    return this.finished;
  }

  /** Joins the election and starts looking for due jobs. */
  start(): void {
    this.election.start();
    this.schedule();
  }

  /**
   * Stops claiming runs, waits for the run in progress (at most graceMs: past it, closing the
   * Cluster cancels it, and its row stays 'running' until closed as abandoned), gives up the lock.
   */
  async stop(graceMs = Infinity): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const grace = Number.isFinite(graceMs) ? new Promise<void>((r) => (timer = setTimeout(r, graceMs))) : new Promise<void>(() => undefined);
    await Promise.race([this.running, grace]);
    clearTimeout(timer);
    await this.election.stop();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runDue().finally(() => this.schedule());
    }, this.opts.pollMs);
  }

  /** One round: while leading, claim and run each due job in turn. */
  async runDue(): Promise<void> {
    if (!this.election.leading) return;
    const names = this.opts.jobs.map((j) => j.name);
    const secs = this.opts.jobs.map((j) => j.intervalMs / 1000);
    await this.opts.cluster.query(closeAbandoned, [names, secs], { lane: 'background' }).catch(() => undefined);
    for (const job of this.opts.jobs) {
      // Leadership is checked before each claim, and the claim itself runs on the lock connection.
      if (this.stopped || !this.election.leading) return;
      let claimed;
      try {
        claimed = await this.election.asLeader<{ id: string; job: string }>(claimDue, [[job.name], [job.intervalMs / 1000], this.opts.instance]);
      } catch {
        return; // the lock connection failed: leadership is gone
      }
      const id = claimed?.rows[0]?.id;
      if (id !== undefined) await this.runOne(job, id);
    }
  }

  private async runOne(job: JobDefinition, id: string): Promise<void> {
    const m = this.opts.metrics;
    const started = process.hrtime.bigint();
    let outcome: RunRecord['outcome'];
    let changes: Record<string, unknown> = {};
    let error: string | null = null;
    try {
      const r = await job.run({ cluster: this.opts.cluster, lockTimeoutMs: this.opts.lockTimeoutMs });
      outcome = r.outcome;
      changes = r.changes;
    } catch (e) {
      outcome = 'failed';
      error = isPgpressError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
      this.opts.log?.('warn', `scheduler: job ${job.name} failed`, { job: job.name, err: error });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    m?.runs.inc({ task: job.name, outcome });
    m?.duration.observe({ task: job.name }, seconds);
    if (outcome === 'failed') m?.failures.inc({ task: job.name });
    if (outcome === 'ok') m?.lastSuccess.set({ task: job.name }, Date.now() / 1000);
    // Recorded through the pool, not the lock connection: the outcome is kept even if leadership was lost meanwhile.
    await this.opts.cluster
      .query(finishRun, [id, outcome, JSON.stringify(changes), error], { lane: 'background' })
      .catch((e: Error) => this.opts.log?.('warn', `scheduler: could not record the run of ${job.name}`, { err: e.message }));
    this.finished.push({ id, job: job.name, outcome, seconds });
  }
}
