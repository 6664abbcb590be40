// Named SQL for analytics: reads from the materialized views (migrations 0019/0020), never the
// raw events; `liveArticleAnalytics` is the same aggregate computed live (the benchmark's baseline).
import { sql } from '../../db/sql.ts';

// Joined with articles for the article's current status: drafts and archived articles keep their
// rows in the view, but callers show them only to who may see the article (top lists: never).
// The rows carry no time of their own (one would make every refresh rewrite every row): the
// refresh table says when the view was computed.
const ARTICLES_REFRESHED_AT = "(SELECT last_refreshed_at FROM pgpress_matview_refresh WHERE view_name = 'article_analytics') AS computed_at";
const USERS_REFRESHED_AT = "(SELECT last_refreshed_at FROM pgpress_matview_refresh WHERE view_name = 'user_engagement') AS computed_at";
const ARTICLE = `x.article_id, x.author_id, x.views, x.unique_viewers, x.likes, x.shares, x.comments, x.read_ms_total,
  x.read_ms_avg, x.views_7d, x.views_30d, x.engagement_7d, x.engagement_30d, x.last_event_at, ${ARTICLES_REFRESHED_AT}, a.status`;
const FROM = 'article_analytics x JOIN articles a ON a.id = x.article_id';

export const articleAnalytics = sql('analytics.article', `SELECT ${ARTICLE} FROM ${FROM} WHERE x.article_id = $1`);

export const userEngagement = sql(
  'analytics.user',
  `SELECT user_id, articles_written, articles_published, comments_written, views_received, likes_received,
          shares_received, comments_received, engagement_received, active_days, last_active_at,
          ${USERS_REFRESHED_AT}
   FROM user_engagement WHERE user_id = $1`,
);

export const topArticles7d = sql('analytics.top7d', `SELECT ${ARTICLE} FROM ${FROM} WHERE a.status = 'published' ORDER BY x.views_7d DESC, x.article_id LIMIT $1`);
export const topArticles30d = sql('analytics.top30d', `SELECT ${ARTICLE} FROM ${FROM} WHERE a.status = 'published' ORDER BY x.views_30d DESC, x.article_id LIMIT $1`);
export const topArticlesAll = sql('analytics.topAll', `SELECT ${ARTICLE} FROM ${FROM} WHERE a.status = 'published' ORDER BY x.views DESC, x.article_id LIMIT $1`);

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
   WHERE a.status = 'published'
   GROUP BY a.id ORDER BY views_7d DESC, a.id LIMIT $1`,
);
