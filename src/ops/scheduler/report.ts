// What `pgpress jobs` shows: each job's interval, its latest runs and its recent failures.
import type { Queryable } from '../../db/cluster.ts';
import type { JobDefinition } from './types.ts';
import { failureCounts, recentRuns } from './queries.ts';

/** One recorded run. */
export interface JobRun {
  id: string;
  instance: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: 'running' | 'ok' | 'skipped' | 'failed';
  changes: Record<string, unknown>;
  error: string | null;
}

/** One job: its schedule and history. */
export interface JobStatus {
  job: string;
  /** From this process's settings; null for a job in the history that is not scheduled here. */
  intervalSeconds: number | null;
  lastRuns: JobRun[];
  /** Failed runs in the last 7 days. */
  failures7d: number;
  lastSuccessAt: string | null;
}

/** Every scheduled job (and any other found in the history) with its last `limit` runs. */
export async function jobStatus(db: Queryable, jobs: readonly JobDefinition[], limit = 3): Promise<JobStatus[]> {
  const runs = (await db.query<{ id: string; job: string; instance: string; started_at: Date; finished_at: Date | null; outcome: JobRun['outcome']; changes: Record<string, unknown>; error: string | null }>(recentRuns, [limit])).rows;
  const counts = new Map((await db.query<{ job: string; failures: number; last_success: Date | null }>(failureCounts)).rows.map((r) => [r.job, r]));
  const names = [...new Set([...jobs.map((j) => j.name), ...runs.map((r) => r.job)])];
  return names.map((name) => ({
    job: name,
    intervalSeconds: jobs.find((j) => j.name === name) ? jobs.find((j) => j.name === name)!.intervalMs / 1000 : null,
    lastRuns: runs.filter((r) => r.job === name).map((r) => ({
      id: r.id, instance: r.instance, startedAt: r.started_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null, outcome: r.outcome, changes: r.changes, error: r.error,
    })),
    failures7d: counts.get(name)?.failures ?? 0,
    lastSuccessAt: counts.get(name)?.last_success?.toISOString() ?? null,
  }));
}
