-- Per-article engagement, precomputed: views, unique (signed-in) viewers, likes, shares, live
-- comments, read time, and 7/30-day windows relative to the refresh. The unique index on
-- article_id lets it refresh CONCURRENTLY (readers never block).
CREATE MATERIALIZED VIEW IF NOT EXISTS article_analytics AS
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
       e.last_event_at,
       now()                           AS computed_at
FROM articles a
LEFT JOIN (
  SELECT article_id,
         count(*) FILTER (WHERE kind = 'view')                                             AS views,
         count(DISTINCT user_id) FILTER (WHERE kind = 'view')                              AS unique_viewers,
         count(*) FILTER (WHERE kind = 'like')                                             AS likes,
         count(*) FILTER (WHERE kind = 'share')                                            AS shares,
         sum(read_ms) FILTER (WHERE kind = 'read_time')                                    AS read_ms_total,
         round(avg(read_ms) FILTER (WHERE kind = 'read_time'))::bigint                     AS read_ms_avg,
         count(*) FILTER (WHERE kind = 'view' AND occurred_at >= now() - interval '7 days')  AS views_7d,
         count(*) FILTER (WHERE kind = 'view' AND occurred_at >= now() - interval '30 days') AS views_30d,
         count(*) FILTER (WHERE kind <> 'read_time' AND occurred_at >= now() - interval '7 days')  AS engagement_7d,
         count(*) FILTER (WHERE kind <> 'read_time' AND occurred_at >= now() - interval '30 days') AS engagement_30d,
         max(occurred_at)                                                                  AS last_event_at
  FROM article_events
  GROUP BY article_id
) e ON e.article_id = a.id
LEFT JOIN (
  SELECT article_id, count(*) AS comments FROM comments WHERE deleted_at IS NULL GROUP BY article_id
) c ON c.article_id = a.id;

CREATE UNIQUE INDEX IF NOT EXISTS article_analytics_article_key ON article_analytics (article_id);
CREATE INDEX IF NOT EXISTS article_analytics_views_7d_idx ON article_analytics (views_7d DESC, article_id);
