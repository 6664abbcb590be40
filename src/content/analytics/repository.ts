// Analytics: per-article and per-user engagement and top articles, read from the materialized
// views (as fresh as their last refresh: see pgpress_matview_staleness).
import type { Queryable } from '../../db/cluster.ts';
import { PgpressError } from '../../errors/index.ts';
import type { ArticleStatus } from '../articles/repository.ts';
import { toId } from '../ids.ts';
import { articleAnalytics, topArticles30d, topArticles7d, topArticlesAll, userEngagement } from './queries.ts';

/** Idempotent reads: retried on connection loss, served by a replica when one is fresh enough. */
const READ = { read: true } as const;

/** Engagement of one article. */
export interface ArticleStats {
  articleId: number;
  authorId: number;
  /** The article's status now (the counts are as of computedAt). */
  status: ArticleStatus;
  views: number;
  uniqueViewers: number;
  likes: number;
  shares: number;
  comments: number;
  readMsTotal: number;
  readMsAvg: number | null;
  views7d: number;
  views30d: number;
  engagement7d: number;
  engagement30d: number;
  lastEventAt: string | null;
  computedAt: string;
}

/** Engagement of one user, as author and as reader. */
export interface UserStats {
  userId: number;
  articlesWritten: number;
  articlesPublished: number;
  commentsWritten: number;
  viewsReceived: number;
  likesReceived: number;
  sharesReceived: number;
  commentsReceived: number;
  engagementReceived: number;
  activeDays: number;
  lastActiveAt: string | null;
  computedAt: string;
}

type Val = string | number | Date | null | undefined;
type Row = Record<string, Val>;
const n = (v: Val): number => Number(v);
const iso = (v: Val): string | null => (v instanceof Date ? v.toISOString() : null);

function toArticleStats(r: Row): ArticleStats {
  return {
    articleId: toId(r.article_id as string), authorId: toId(r.author_id as string), status: r.status as ArticleStatus, views: n(r.views), uniqueViewers: n(r.unique_viewers),
    likes: n(r.likes), shares: n(r.shares), comments: n(r.comments), readMsTotal: n(r.read_ms_total),
    readMsAvg: r.read_ms_avg === null ? null : n(r.read_ms_avg), views7d: n(r.views_7d), views30d: n(r.views_30d),
    engagement7d: n(r.engagement_7d), engagement30d: n(r.engagement_30d), lastEventAt: iso(r.last_event_at), computedAt: iso(r.computed_at)!,
  };
}

/** The error for an article without visible stats: one message whether it is unknown or hidden. */
export function noArticleStats(articleId: number): PgpressError {
  return new PgpressError('PGP_NOT_FOUND', `No analytics for article ${articleId} (unknown, or created after the last refresh).`);
}

/** Stats of one article; PGP_NOT_FOUND when the view has no row (unknown, or newer than the last refresh). */
export async function getArticleStats(db: Queryable, articleId: number): Promise<ArticleStats> {
  const { rows } = await db.query<Row>(articleAnalytics, [articleId], READ);
  if (!rows[0]) throw noArticleStats(articleId);
  return toArticleStats(rows[0]);
}

/** Stats of one user; PGP_NOT_FOUND when the view has no row. */
export async function getUserStats(db: Queryable, userId: number): Promise<UserStats> {
  const { rows } = await db.query<Row>(userEngagement, [userId], READ);
  const r = rows[0];
  if (!r) throw new PgpressError('PGP_NOT_FOUND', `No engagement for user ${userId} (unknown, or created after the last refresh).`);
  return {
    userId: toId(r.user_id as string), articlesWritten: n(r.articles_written), articlesPublished: n(r.articles_published),
    commentsWritten: n(r.comments_written), viewsReceived: n(r.views_received), likesReceived: n(r.likes_received),
    sharesReceived: n(r.shares_received), commentsReceived: n(r.comments_received), engagementReceived: n(r.engagement_received),
    activeDays: n(r.active_days), lastActiveAt: iso(r.last_active_at), computedAt: iso(r.computed_at)!,
  };
}

/** The most viewed published articles over a window ('7d', '30d' or 'all'). */
export async function topArticles(db: Queryable, window: '7d' | '30d' | 'all' = '7d', limit = 10): Promise<ArticleStats[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new PgpressError('PGP_VALIDATION', 'limit must be between 1 and 100.', { details: { field: 'limit' } });
  const q = window === '7d' ? topArticles7d : window === '30d' ? topArticles30d : topArticlesAll;
  const { rows } = await db.query<Row>(q, [limit], READ);
  return rows.map(toArticleStats);
}
