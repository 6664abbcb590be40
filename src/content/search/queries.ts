// Named SQL for search: ranked full text over the weighted tsvector (GIN articles_search_idx) and
// typo-tolerant title lookup by trigram similarity (GIN articles_title_trgm_idx).
// FROM articles_published (migration 0073): under row-level security on articles, @@ and % (not
// leakproof) could not use their GIN indexes.
import { sql, type NamedQuery } from '../../db/sql.ts';

// websearch_to_tsquery accepts what people type ("quoted phrases", -exclusions, or). ts_headline
// runs only on the page of hits (after LIMIT), because it re-parses each body. It copies the body's
// text as it is, markup included, so matches are bracketed by the control characters U+0001 and
// U+0002 (removed from the body first) and the repository escapes the snippet before turning them
// into <mark> tags: a snippet is safe HTML. `filter` is a fixed condition on $4 (or nothing).
const fullText = (name: string, filter: string): NamedQuery => sql(
  name,
  `WITH hits AS (
     SELECT a.id, a.title, a.slug, a.body, a.published_at, ts_rank_cd(a.search, q) AS rank, q
     FROM articles_published a, websearch_to_tsquery('english', $1) AS q
     WHERE a.search @@ q AND a.status = 'published'${filter}
     ORDER BY rank DESC, a.id DESC
     LIMIT $2 OFFSET $3
   )
   SELECT id, title, slug, published_at, rank,
          ts_headline('english', translate(body, chr(1) || chr(2), ''), q,
                      'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxFragments=2, MaxWords=20, MinWords=8') AS snippet
   FROM hits ORDER BY rank DESC, id DESC`,
);

/** The product's ranked search: pgpress_search_top (migration 0108) picks the top offset + limit
 *  exactly as ranking every match would, mostly without ranking them; $4 a metadata containment
 *  (JSON text) or null, $5 a language or null. ts_headline as in the full ranking, on the page only. */
export const searchRanked = sql(
  'search.ranked',
  `WITH hits AS (
     SELECT a.id, a.title, a.slug, a.body, a.published_at, t.rank, t.q
     FROM (SELECT s.id, s.rank, q
           FROM websearch_to_tsquery('english', $1) AS q, pgpress_search_top(q, $2::int + $3::int, $4::jsonb, $5::text) AS s) t
     JOIN articles_published a ON a.id = t.id
     ORDER BY t.rank DESC, t.id DESC
     LIMIT $2 OFFSET $3
   )
   SELECT id, title, slug, published_at, rank,
          ts_headline('english', translate(body, chr(1) || chr(2), ''), q,
                      'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxFragments=2, MaxWords=20, MinWords=8') AS snippet
   FROM hits ORDER BY rank DESC, id DESC`,
);

// The full ranking: every match ranked, then the page. The baseline the ranked search must equal
// (test/schema/searchRanking.test.ts, `npm run bench -- search`) and the schema scenario's statement.
export const searchArticles = fullText('search.fullText', '');
// Each filter its own statement (as in the feed): when the filter is the selective part the
// planner ANDs its index (GIN articles_metadata_idx, B-tree articles_lang_feed_idx) with the
// tsvector's bitmap, or starts from it alone.
export const searchArticlesByMeta = fullText('search.fullText.meta', ' AND a.metadata @> $4::jsonb');
export const searchArticlesByLang = fullText('search.fullText.lang', " AND (a.metadata ->> 'lang') = $4");

// `%` is pg_trgm's similarity operator (threshold pg_trgm.similarity_threshold, 0.3 by default).
export const similarTitles = sql(
  'search.similarTitles',
  `SELECT id, title, slug, similarity(title, $1) AS score
   FROM articles_published
   WHERE title % $1 AND status = 'published'
   ORDER BY score DESC, id DESC
   LIMIT $2`,
);
