-- Engagement events, range-partitioned by month on occurred_at (UTC month bounds). Monthly
-- partitions are created ahead and retired by `pgpress maintain`; the DEFAULT partition catches
-- rows for months that have none yet, and maintenance moves them out before attaching one.
CREATE TABLE IF NOT EXISTS article_events (
  id          bigint GENERATED ALWAYS AS IDENTITY,
  article_id  bigint      NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  user_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
  kind        text        NOT NULL CHECK (kind IN ('view', 'like', 'share', 'read_time')),
  read_ms     integer     CHECK (read_ms BETWEEN 0 AND 86400000),
  occurred_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT article_events_read_ms_iff_read_time CHECK ((kind = 'read_time') = (read_ms IS NOT NULL)),
  CONSTRAINT article_events_pkey PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE IF NOT EXISTS article_events_default PARTITION OF article_events DEFAULT;

CREATE INDEX IF NOT EXISTS article_events_article_idx ON article_events (article_id, occurred_at);
CREATE INDEX IF NOT EXISTS article_events_user_idx ON article_events (user_id, occurred_at) WHERE user_id IS NOT NULL;
