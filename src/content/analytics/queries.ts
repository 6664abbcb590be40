// Named SQL for analytics: reads from the materialized views (migrations 0019/0020), never the
// raw events; `liveArticleAnalytics` is the same aggregate computed live (the benchmark's baseline).
import { sql } from '../../db/sql.ts';

const ARTICLE = `article_id, author_id, views, unique_viewers, likes, shares, comments, read_ms_total, read_ms_avg,
  views_7d, views_30d, engagement_7d, engagement_30d, last_event_at, computed_at`;

export const articleAnalytics = sql('analytics.article', `SELECT ${ARTICLE} FROM article_analytics WHERE article_id = $1`);

export const userEngagement = sql(
  'analytics.user',
  `SELECT user_id, articles_written, articles_published, comments_written, views_received, likes_received,
          shares_received, comments_received, engagement_received, active_days, last_active_at, computed_at
   FROM user_engagement WHERE user_id = $1`,
);

export const topArticles7d = sql('analytics.top7d', `SELECT ${ARTICLE} FROM article_analytics ORDER BY views_7d DESC, article_id LIMIT $1`);
export const topArticles30d = sql('analytics.top30d', `SELECT ${ARTICLE} FROM article_analytics ORDER BY views_30d DESC, article_id LIMIT $1`);
export const topArticlesAll = sql('analytics.topAll', `SELECT ${ARTICLE} FROM article_analytics ORDER BY views DESC, article_id LIMIT $1`);

/** The top-N by 7-day views computed from the raw tables: what the view saves. */
export const liveTopArticles7d = sql(
  'analytics.liveTop7d',
  `SELECT a.id AS article_id,
          count(*) FILTER (WHERE e.kind = 'view' AND e.occurred_at >= now() - interval '7 days') AS views_7d,
          count(*) FILTER (WHERE e.kind = 'view') AS views,
          count(DISTINCT e.user_id) FILTER (WHERE e.kind = 'view') AS unique_viewers,
          count(*) FILTER (WHERE e.kind = 'like') AS likes,
          (SELECT count(*) FROM comments c WHERE c.article_id = a.id AND c.deleted_at IS NULL) AS comments
   FROM articles a JOIN article_events e ON e.article_id = a.id
   GROUP BY a.id ORDER BY views_7d DESC, a.id LIMIT $1`,
);
