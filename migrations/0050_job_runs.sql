-- History of the scheduler's job runs: one row per run, opened when it starts and closed with its
-- outcome and what it changed. The scheduler reads the latest start per job to decide what is due,
-- so an instance that takes over the leadership does not run again what the old leader just ran.
CREATE TABLE IF NOT EXISTS pgpress_job_runs (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job         text        NOT NULL,
  instance    text        NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  outcome     text        NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'ok', 'skipped', 'failed')),
  changes     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  error       text
);

CREATE INDEX IF NOT EXISTS pgpress_job_runs_job_started_idx ON pgpress_job_runs (job, started_at DESC);
