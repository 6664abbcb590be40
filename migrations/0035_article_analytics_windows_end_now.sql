-- article_analytics' 7- and 30-day windows end at now: an event dated in the future (accepted
-- before ingestion bounded occurredAt, or a few minutes ahead within the allowed clock skew) no
-- longer counts in views_7d/30d and engagement_7d/30d until its time comes. Rebuilt under a new
-- name and swapped in, as 0025 does; skipped once the view has the upper bound.
DO $$
BEGIN
  IF pg_get_viewdef('article_analytics'::regclass) ~ 'occurred_at <= now\(\)' THEN
    RETURN;
  END IF;
  DROP MATERIALIZED VIEW IF EXISTS article_analytics_next;
  CREATE MATERIALIZED VIEW article_analytics_next AS
    SELECT a.id                            AS article_id,
           a.author_id,
           coalesce(e.views, 0)            AS views,
           coalesce(e.unique_viewers, 0)   AS unique_viewers,
           coalesce(e.likes, 0)            AS likes,
           coalesce(e.shares, 0)           AS shares,
           coalesce(c.comments, 0)         AS comments,
           coalesce(e.read_ms_total, 0)    AS read_ms_total,
           e.read_ms_avg,
           coalesce(e.views_7d, 0)         AS views_7d,
           coalesce(e.views_30d, 0)        AS views_30d,
           coalesce(e.engagement_7d, 0)    AS engagement_7d,
           coalesce(e.engagement_30d, 0)   AS engagement_30d,
           e.last_event_at
    FROM articles a
    LEFT JOIN (
      SELECT article_id,
             count(*) FILTER (WHERE kind = 'view')                                             AS views,
             count(DISTINCT user_id) FILTER (WHERE kind = 'view')                              AS unique_viewers,
             count(*) FILTER (WHERE kind = 'like')                                             AS likes,
             count(*) FILTER (WHERE kind = 'share')                                            AS shares,
             sum(read_ms) FILTER (WHERE kind = 'read_time')                                    AS read_ms_total,
             round(avg(read_ms) FILTER (WHERE kind = 'read_time'))::bigint                     AS read_ms_avg,
             count(*) FILTER (WHERE kind = 'view' AND occurred_at >= now() - interval '7 days' AND occurred_at <= now())  AS views_7d,
             count(*) FILTER (WHERE kind = 'view' AND occurred_at >= now() - interval '30 days' AND occurred_at <= now()) AS views_30d,
             count(*) FILTER (WHERE kind <> 'read_time' AND occurred_at >= now() - interval '7 days' AND occurred_at <= now())  AS engagement_7d,
             count(*) FILTER (WHERE kind <> 'read_time' AND occurred_at >= now() - interval '30 days' AND occurred_at <= now()) AS engagement_30d,
             max(occurred_at)                                                                  AS last_event_at
      FROM article_events
      GROUP BY article_id
    ) e ON e.article_id = a.id
    LEFT JOIN (
      SELECT article_id, count(*) AS comments FROM comments WHERE deleted_at IS NULL GROUP BY article_id
    ) c ON c.article_id = a.id;
  -- The unique index lets it refresh CONCURRENTLY. The view was built just above and nothing
  -- reads it yet, so a plain build blocks no one.
  CREATE UNIQUE INDEX article_analytics_next_article_key ON article_analytics_next (article_id);
  CREATE INDEX article_analytics_next_views_7d_idx ON article_analytics_next (views_7d DESC, article_id);
  DROP MATERIALIZED VIEW article_analytics;
  ALTER MATERIALIZED VIEW article_analytics_next RENAME TO article_analytics;
  ALTER INDEX article_analytics_next_article_key RENAME TO article_analytics_article_key;
  ALTER INDEX article_analytics_next_views_7d_idx RENAME TO article_analytics_views_7d_idx;
  -- Its rows are as of now. seen_changes stays: a write it did not count only costs one spare refresh.
  UPDATE pgpress_matview_refresh SET last_refreshed_at = now() WHERE view_name = 'article_analytics';
END
$$; -- pgpress-lint: ignore index-not-concurrent, missing-lock-timeout (indexes of the view built just above)
