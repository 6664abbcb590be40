// Named SQL of the scheduler's run history (pgpress_job_runs, migration 0050).
import { sql } from '../../db/sql.ts';

// Due jobs and the claim of their runs in one statement on the leader's lock connection: if that
// connection is gone, so is the claim, so a deposed leader cannot start a run. Due is judged on
// the database clock, so instances with skewed clocks agree.
export const claimDue = sql(
  'jobs.claimDue',
  `INSERT INTO pgpress_job_runs (job, instance)
   SELECT j.name, $3 FROM unnest($1::text[], $2::float8[]) AS j(name, secs)
   WHERE NOT EXISTS (
     SELECT 1 FROM pgpress_job_runs r
     WHERE r.job = j.name AND r.started_at > clock_timestamp() - make_interval(secs => j.secs))
   RETURNING id::text, job`,
);

export const finishRun = sql(
  'jobs.finishRun',
  `UPDATE pgpress_job_runs SET finished_at = clock_timestamp(), outcome = $2, changes = $3::jsonb, error = $4
   WHERE id = $1::bigint RETURNING extract(epoch FROM finished_at - started_at)::float8 AS seconds`,
);

// A run left 'running' by an instance that died: closed as failed once the job's interval has
// passed (the next run is then due anyway), so `pgpress jobs` does not show it running forever.
export const closeAbandoned = sql(
  'jobs.closeAbandoned',
  `UPDATE pgpress_job_runs r SET finished_at = clock_timestamp(), outcome = 'failed', error = 'abandoned: its instance stopped before the run finished'
   FROM unnest($1::text[], $2::float8[]) AS j(name, secs)
   WHERE r.job = j.name AND r.outcome = 'running' AND r.started_at < clock_timestamp() - make_interval(secs => j.secs)`,
);

export const recentRuns = sql(
  'jobs.recentRuns',
  `SELECT id::text, job, instance, started_at, finished_at, outcome, changes, error
   FROM (SELECT r.*, row_number() OVER (PARTITION BY job ORDER BY started_at DESC) AS n FROM pgpress_job_runs r) x
   WHERE n <= $1 ORDER BY job, started_at DESC`,
);

export const failureCounts = sql(
  'jobs.failureCounts',
  `SELECT job, count(*) FILTER (WHERE outcome = 'failed')::int AS failures,
          max(started_at) FILTER (WHERE outcome = 'ok') AS last_success
   FROM pgpress_job_runs WHERE started_at > now() - interval '7 days' GROUP BY job`,
);
