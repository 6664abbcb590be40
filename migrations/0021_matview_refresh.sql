-- Refresh bookkeeping for the materialized views: when each was last refreshed, how long it took,
-- and the source-change total it saw, so a refresh with nothing new is skipped and staleness can
-- be read (pgpress_matview_staleness) and exported as a metric.
CREATE TABLE IF NOT EXISTS pgpress_matview_refresh (
  view_name         text        PRIMARY KEY,
  sources           text[]      NOT NULL CHECK (cardinality(sources) > 0),
  seen_changes      bigint      NOT NULL DEFAULT 0,
  last_refreshed_at timestamptz,
  last_duration_ms  integer,
  refreshes         bigint      NOT NULL DEFAULT 0,
  skips             bigint      NOT NULL DEFAULT 0
);

INSERT INTO pgpress_matview_refresh (view_name, sources) VALUES
  ('article_analytics', ARRAY['articles', 'comments', 'article_events']),
  ('user_engagement', ARRAY['users', 'articles', 'comments', 'article_events'])
ON CONFLICT (view_name) DO NOTHING;
