// What a scheduled job is: a name, an interval and an idempotent run that says what it changed.
import type { Cluster } from '../../db/cluster.ts';

/** What a run did: 'skipped' when another holder had the job's lock or the server is a replica. */
export interface JobResult {
  outcome: 'ok' | 'skipped';
  /** What changed (stored as jsonb in pgpress_job_runs.changes). */
  changes: Record<string, unknown>;
}

/** What a job gets to run with. */
export interface JobContext {
  cluster: Cluster;
  /** lock_timeout for the job's DDL and VACUUM/REINDEX (a job waits this long, then gives up until its next run). */
  lockTimeoutMs: number;
}

/** A job the scheduler runs every intervalMs (measured from the start of its last run, any instance's). */
export interface JobDefinition {
  name: string;
  intervalMs: number;
  run(ctx: JobContext): Promise<JobResult>;
}
