// What the content reads cache, under which key and tags, and which answers are never stored:
// the content code decides, the cache only executes.
import type { Queryable } from '../db/cluster.ts';
import type { Lookup, QueryCache } from '../cache/queryCache.ts';
import { tags, type CacheKind } from '../cache/types.ts';
import { getArticle, getArticleBySlug, type Article } from './articles/repository.ts';
import { feedPage, type FeedOptions, type FeedPage } from './feed/repository.ts';
import type { ContentFilter } from './feed/filter.ts';
import { findSimilarTitles, search, type SearchHit, type TitleMatch } from './search/repository.ts';
import { getArticleStats, getUserStats, topArticles, type ArticleStats, type UserStats } from './analytics/repository.ts';
import { getSealedUser, type SealedUser } from './users/repository.ts';

/** A read's caller: its read-your-writes token and deadline. */
export interface CachedReadContext {
  token?: string;
  deadline?: number;
}

/** A Queryable that reads at least at token (the Store's reader for a load). */
export type ReaderAt = (token: string | undefined, deadline: number | undefined) => Queryable;

/** The cached reads of the content services. */
export interface CachedReads {
  article(id: number, ctx: CachedReadContext): Promise<Article>;
  articleBySlug(slug: string, ctx: CachedReadContext): Promise<Article>;
  feed(opts: FeedOptions, ctx: CachedReadContext): Promise<FeedPage>;
  search(text: string, limit: number | undefined, offset: number | undefined, filter: ContentFilter | undefined, ctx: CachedReadContext): Promise<SearchHit[]>;
  similarTitles(text: string, limit: number | undefined, ctx: CachedReadContext): Promise<TitleMatch[]>;
  articleStats(id: number, ctx: CachedReadContext): Promise<ArticleStats>;
  userStats(id: number, ctx: CachedReadContext): Promise<UserStats>;
  top(window: '7d' | '30d' | 'all' | undefined, limit: number | undefined, ctx: CachedReadContext): Promise<ArticleStats[]>;
  user(id: number, ctx: CachedReadContext): Promise<SealedUser>;
}

/**
 * Only published articles are stored: a draft or an archived article (and its stats) is read from
 * PostgreSQL every time, so no shared entry can ever hand one to a reader who may not see it, and
 * the route's visibility check always sees the row's current status.
 */
const published = (a: { status: string }): boolean => a.status === 'published';

/** What an article read read: the article. */
const articleTags = (a: Article): string[] => [tags.article(a.id)];

/** The content reads over cache, each loading through readerAt on a miss. */
export function cachedReads(cache: QueryCache, readerAt: ReaderAt): CachedReads {
  // The load comes from a function returning it, not an arrow written as a `load:` property: tsx
  // (esbuild keepNames) wraps such an arrow to name it, an Object.defineProperty on every read, hits included.
  const loader = <T>(load: (q: Queryable) => Promise<T>, deadline: number | undefined): ((token: string | undefined) => Promise<T>) => (token) => load(readerAt(token, deadline));
  const read = <T>(kind: CacheKind, key: string, ctx: CachedReadContext, load: (q: Queryable) => Promise<T>, tagsOf: (v: T) => string[], cacheable?: (v: T) => boolean): Promise<T> => {
    const hit = cache.peek<T>(kind, key, ctx.token);
    if (hit !== undefined) return Promise.resolve(hit);
    const l: Lookup<T> = { kind, key, load: loader(load, ctx.deadline), tags: tagsOf };
    if (ctx.token !== undefined) l.token = ctx.token;
    if (ctx.deadline !== undefined) l.deadline = ctx.deadline;
    if (cacheable) l.cacheable = cacheable;
    return cache.get(l);
  };
  return {
    article: (id, ctx) => read('article', `a:${id}`, ctx, (q) => getArticle(q, id), articleTags, published),
    articleBySlug: (slug, ctx) => read('article', `s:${slug}`, ctx, (q) => getArticleBySlug(q, slug), articleTags, published),
    // Any article published, changed or archived can move every feed page: one tag for all.
    feed: (o, ctx) => read('feed', `f:${JSON.stringify([o.limit ?? 20, o.cursor ?? null, o.authorId ?? null, o.tag ?? null, o.meta ?? null, o.lang ?? null])}`, ctx, (q) => feedPage(q, o), () => [tags.feed]),
    search: (text, limit, offset, filter, ctx) =>
      read('search', `q:${JSON.stringify([text, limit ?? 10, offset ?? 0, filter?.meta ?? null, filter?.lang ?? null])}`, ctx, (q) => search(q, text, limit, offset, filter), () => [tags.search]),
    similarTitles: (text, limit, ctx) => read('search', `t:${JSON.stringify([text, limit ?? 10])}`, ctx, (q) => findSimilarTitles(q, text, limit), () => [tags.search]),
    articleStats: (id, ctx) => read('analytics', `as:${id}`, ctx, (q) => getArticleStats(q, id), (s) => [tags.analytics, tags.article(s.articleId)], published),
    userStats: (id, ctx) => read('analytics', `us:${id}`, ctx, (q) => getUserStats(q, id), () => [tags.analytics, tags.user(id)]),
    top: (w, limit, ctx) => read('analytics', `top:${w ?? '7d'}:${limit ?? 10}`, ctx, (q) => topArticles(q, w, limit), () => [tags.analytics]),
    user: (id, ctx) => read('user', `u:${id}`, ctx, (q) => getSealedUser(q, id), () => [tags.user(id)]),
  };
}

/** Tags a committed change to an article invalidates (the article, every list and search it can appear in). */
export function articleWriteTags(a: Article): string[] {
  return [tags.article(a.id), tags.author(a.authorId), tags.feed, tags.search];
}
