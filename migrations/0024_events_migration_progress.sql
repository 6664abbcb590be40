-- Progress of online copies of an unpartitioned events table into article_events (src/ops/
-- eventsMigration.ts): one row per source table, so an interrupted copy resumes where it stopped.
CREATE TABLE IF NOT EXISTS pgpress_events_migration (
  source_table text        PRIMARY KEY,
  last_id      bigint      NOT NULL DEFAULT 0,
  copied       bigint      NOT NULL DEFAULT 0,
  state        text        NOT NULL DEFAULT 'copying' CHECK (state IN ('copying', 'validated', 'failed')),
  started_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  report       jsonb
);
