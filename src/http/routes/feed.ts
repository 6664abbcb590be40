// The public feed and search.
import type { FastifyInstance } from 'fastify';
import { parseMetaFilter, type ContentFilter } from '../../content/feed/filter.ts';
import { errorBodySchema } from '../errors.ts';
import type { RouteDeps } from './deps.ts';
import { clampInt, feedPageSchema, feedQuery, searchPageSchema, searchQuery, titleMatchesSchema } from './schemas.ts';
import { readCtx } from '../requestContext.ts';

/** Deepest search page served (pages of up to 50: offsets stay within the search layer's bound). */
const MAX_SEARCH_PAGE = 20;

/** No filter: shared by every request without `meta` or `lang` (most of them). */
const NO_FILTER: ContentFilter = Object.freeze({});

/** The `meta` (JSON text) and `lang` query parameters as the library's filter. */
function contentFilter(q: { meta?: string; lang?: string }): ContentFilter {
  if (q.meta === undefined && q.lang === undefined) return NO_FILTER;
  return { ...(q.meta !== undefined ? { meta: parseMetaFilter(q.meta) } : {}), ...(q.lang !== undefined ? { lang: q.lang } : {}) };
}

/** GET /v1/feed, GET /v1/search, GET /v1/search/titles. */
export async function feedRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const { store } = opts;
  const errors = { '4xx': errorBodySchema };

  app.get<{ Querystring: { limit?: string; cursor?: string; tag?: string; author?: string; meta?: string; lang?: string } }>(
    '/v1/feed',
    { schema: { querystring: feedQuery, response: { 200: feedPageSchema, ...errors } } },
    async (req) => {
      const q = req.query;
      return store.feed.page({
        limit: clampInt(q.limit, 1, 100, 20),
        cursor: q.cursor ?? null,
        ...(q.tag !== undefined ? { tag: q.tag } : {}),
        ...(q.author !== undefined ? { authorId: Number(q.author) } : {}),
        ...contentFilter(q),
      }, readCtx(req));
    },
  );

  app.get<{ Querystring: { q: string; limit?: string; page?: string; meta?: string; lang?: string } }>(
    '/v1/search',
    { schema: { querystring: searchQuery, response: { 200: searchPageSchema, ...errors } } },
    async (req) => {
      const limit = clampInt(req.query.limit, 1, 50, 10);
      const page = clampInt(req.query.page, 1, MAX_SEARCH_PAGE, 1);
      // One extra hit tells whether a next page exists without counting every match.
      const hits = await store.search.articles(req.query.q, limit + 1, (page - 1) * limit, readCtx(req), contentFilter(req.query));
      return { items: hits.slice(0, limit), page, nextPage: hits.length > limit && page < MAX_SEARCH_PAGE ? page + 1 : null };
    },
  );

  app.get<{ Querystring: { q: string; limit?: string } }>(
    '/v1/search/titles',
    { schema: { querystring: { ...searchQuery, properties: { q: searchQuery.properties.q, limit: searchQuery.properties.limit } }, response: { 200: titleMatchesSchema, ...errors } } },
    async (req) => ({ items: await store.search.similarTitles(req.query.q, clampInt(req.query.limit, 1, 50, 10), readCtx(req)) }),
  );
}
