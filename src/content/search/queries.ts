// Named SQL for search: ranked full text over the weighted tsvector (GIN articles_search_idx) and
// typo-tolerant title lookup by trigram similarity (GIN articles_title_trgm_idx).
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
     FROM articles a, websearch_to_tsquery('english', $1) AS q
     WHERE a.search @@ q AND a.status = 'published'${filter}
     ORDER BY rank DESC, a.id DESC
     LIMIT $2 OFFSET $3
   )
   SELECT id, title, slug, published_at, rank,
          ts_headline('english', translate(body, chr(1) || chr(2), ''), q,
                      'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxFragments=2, MaxWords=20, MinWords=8') AS snippet
   FROM hits ORDER BY rank DESC, id DESC`,
);

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
   FROM articles
   WHERE title % $1 AND status = 'published'
   ORDER BY score DESC, id DESC
   LIMIT $2`,
);
