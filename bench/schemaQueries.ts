// Baseline SQL of the schema scenario: the best queries an application could run without what the
// schema precomputes, so each ratio is the precomputation's value, not the cost of a naive query.
import { sql } from '../src/db/sql.ts';

/**
 * The top-N by 7-day views computed live, with the columns `analytics.top7d` reads from the view.
 * Window-filtered (only the last 7 days of views are grouped, and `now() - 7 days` prunes every
 * older monthly partition at executor start) and limited before the all-time figures are counted,
 * for the N winners only, through article_events_article_idx.
 */
export const bestLiveTopArticles7d = sql(
  'bench.liveTop7d',
  `WITH top AS (
     SELECT e.article_id, count(*) AS views_7d
     FROM article_events e JOIN articles a ON a.id = e.article_id AND a.status = 'published'
     WHERE e.kind = 'view' AND e.occurred_at >= now() - interval '7 days'
     GROUP BY e.article_id
     ORDER BY views_7d DESC, e.article_id
     LIMIT $1
   )
   SELECT t.article_id, a.author_id, s.views, s.unique_viewers, s.likes, s.shares, s.read_ms_total, s.read_ms_avg,
          t.views_7d, s.views_30d, s.engagement_7d, s.engagement_30d, s.last_event_at, a.status,
          (SELECT count(*) FROM comments c WHERE c.article_id = t.article_id AND c.deleted_at IS NULL) AS comments
   FROM top t
   JOIN articles a ON a.id = t.article_id
   CROSS JOIN LATERAL (
     SELECT count(*) FILTER (WHERE kind = 'view') AS views,
            count(DISTINCT user_id) FILTER (WHERE kind = 'view') AS unique_viewers,
            count(*) FILTER (WHERE kind = 'like') AS likes,
            count(*) FILTER (WHERE kind = 'share') AS shares,
            coalesce(sum(read_ms) FILTER (WHERE kind = 'read_time'), 0) AS read_ms_total,
            round(avg(read_ms) FILTER (WHERE kind = 'read_time'))::bigint AS read_ms_avg,
            count(*) FILTER (WHERE kind = 'view' AND occurred_at >= now() - interval '30 days') AS views_30d,
            count(*) FILTER (WHERE kind <> 'read_time' AND occurred_at >= now() - interval '7 days') AS engagement_7d,
            count(*) FILTER (WHERE kind <> 'read_time' AND occurred_at >= now() - interval '30 days') AS engagement_30d,
            max(occurred_at) AS last_event_at
     FROM article_events x WHERE x.article_id = t.article_id
   ) s
   ORDER BY t.views_7d DESC, t.article_id`,
);

/** The feed's next-best index: the same keys, neither partial nor covering (heap fetches, and a
 *  filter on status for every row it walks). */
export const plainFeedIndex = 'CREATE INDEX bench_feed_plain_idx ON articles (published_at, id)';
