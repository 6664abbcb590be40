-- user_engagement without computed_at, for the same reason as article_analytics (0025): a now()
-- in every row made each concurrent refresh rewrite the whole view. The refresh time is
-- pgpress_matview_refresh.last_refreshed_at. Built under a new name and swapped in; skipped once
-- the column is gone.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                  WHERE attrelid = to_regclass('user_engagement') AND attname = 'computed_at' AND NOT attisdropped) THEN
    RETURN;
  END IF;
  DROP MATERIALIZED VIEW IF EXISTS user_engagement_next;
  CREATE MATERIALIZED VIEW user_engagement_next AS
    SELECT u.id                              AS user_id,
           coalesce(aw.articles, 0)          AS articles_written,
           coalesce(aw.published, 0)         AS articles_published,
           coalesce(cw.comments, 0)          AS comments_written,
           coalesce(er.views, 0)             AS views_received,
           coalesce(er.likes, 0)             AS likes_received,
           coalesce(er.shares, 0)            AS shares_received,
           coalesce(cr.comments, 0)          AS comments_received,
           coalesce(er.views, 0) + coalesce(er.likes, 0) + coalesce(er.shares, 0) + coalesce(cr.comments, 0) AS engagement_received,
           coalesce(ad.days, 0)              AS active_days,
           ad.last_active_at
    FROM users u
    LEFT JOIN (
      SELECT author_id, count(*) AS articles, count(*) FILTER (WHERE status = 'published') AS published
      FROM articles GROUP BY author_id
    ) aw ON aw.author_id = u.id
    LEFT JOIN (
      SELECT author_id, count(*) AS comments FROM comments WHERE deleted_at IS NULL GROUP BY author_id
    ) cw ON cw.author_id = u.id
    LEFT JOIN (
      SELECT a.author_id,
             count(*) FILTER (WHERE e.kind = 'view')  AS views,
             count(*) FILTER (WHERE e.kind = 'like')  AS likes,
             count(*) FILTER (WHERE e.kind = 'share') AS shares
      FROM article_events e JOIN articles a ON a.id = e.article_id
      GROUP BY a.author_id
    ) er ON er.author_id = u.id
    LEFT JOIN (
      SELECT a.author_id, count(*) AS comments
      FROM comments c JOIN articles a ON a.id = c.article_id
      WHERE c.deleted_at IS NULL AND c.author_id <> a.author_id
      GROUP BY a.author_id
    ) cr ON cr.author_id = u.id
    LEFT JOIN (
      SELECT who, count(DISTINCT (at AT TIME ZONE 'UTC')::date) AS days, max(at) AS last_active_at
      FROM (
        SELECT user_id AS who, occurred_at AS at FROM article_events WHERE user_id IS NOT NULL
        UNION ALL SELECT author_id, created_at FROM comments
        UNION ALL SELECT author_id, created_at FROM articles
      ) act
      GROUP BY who
    ) ad ON ad.who = u.id;
  -- The unique index lets it refresh CONCURRENTLY. The view was built just above and nothing
  -- reads it yet, so a plain build blocks no one.
  CREATE UNIQUE INDEX user_engagement_next_user_key ON user_engagement_next (user_id);
  DROP MATERIALIZED VIEW user_engagement;
  ALTER MATERIALIZED VIEW user_engagement_next RENAME TO user_engagement;
  ALTER INDEX user_engagement_next_user_key RENAME TO user_engagement_user_key;
  -- Its rows are as of now. seen_changes stays: a write it did not count only costs one spare refresh.
  UPDATE pgpress_matview_refresh SET last_refreshed_at = now() WHERE view_name = 'user_engagement';
END
$$; -- pgpress-lint: ignore index-not-concurrent, missing-lock-timeout (indexes of the view built just above)
