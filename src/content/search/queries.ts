// Named SQL for search: ranked full text over the weighted tsvector (GIN articles_search_idx) and
// typo-tolerant title lookup by trigram similarity (GIN articles_title_trgm_idx).
// FROM articles_published (migration 0073): under row-level security on articles, @@ and % (not
// leakproof) could not use their GIN indexes.
import { sql, type NamedQuery } from '../../db/sql.ts';

// websearch_to_tsquery accepts what people type ("quoted phrases", -exclusions, or).
// The page's snippets by ts_headline, from a CTE `hits` (id, title, slug, published_at, rank, body,
// search, q), in rank order; a search of one word has its snippets made by the repository instead
// (wordSnippet.ts, statement search.ranked.word). ts_headline parses and stems every word it is given,
// at a cost that grows faster than its text (0.01 ms for 20 characters, 0.06–0.1 for 300, 0.4 for a
// 1,200-character body here), so it is first made from a window of the body: WINDOW characters from
// BEFORE ahead of the first place where the query's first lexeme (less a final 'i': 'query' stems to
// 'queri') appears in the lower-cased body, or from its beginning when it does not, less a partial
// first and last word. When that marks no match: the whole body's headline if the body holds a
// match (its weight-B lexemes match the query), else the beginning's. A body of WINDOW characters or
// fewer is used whole. `hits` detoasts each body once (`body || ''`): the functions below read it
// several times. ts_headline copies the text as it is, markup included, so matches are bracketed by
// the control characters U+0001 and U+0002 (removed from the text first) and the repository escapes
// the snippet before turning them into <mark> tags: a snippet is safe HTML. docs/schema.md, "Snippets".
const HEADLINE = `'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxFragments=2, MaxWords=20, MinWords=8'`;
/** Characters of body a snippet shows, from BEFORE ahead of the first match (here and in wordSnippet.ts). */
export const WINDOW = 240;
export const BEFORE = 80;

/** SQL: a window's text from `raw`, the WINDOW + 1 characters of the body from `from` (the extra one
 *  tells whether the body goes on), less a partial first and last word (cut at a space found by
 *  strpos and reverse: a pattern anchored at the end backtracks through the text). */
const windowText = (raw: string, from: string): string => `(SELECT translate(substr(x.w, 1 + CASE WHEN ${from} > 1 THEN strpos(x.w, ' ') ELSE 0 END,
                             ${WINDOW} - CASE WHEN ${from} > 1 THEN strpos(x.w, ' ') ELSE 0 END - CASE WHEN x.more THEN strpos(reverse(x.w), ' ') ELSE 0 END),
                      chr(1) || chr(2), '')
            FROM (SELECT left(${raw}, ${WINDOW}) AS w, length(${raw}) > ${WINDOW} AS more) x)`;

const SNIPPETS = `,
   found AS MATERIALIZED (
     SELECT h.*, length(left(h.body, ${WINDOW + 1})) <= ${WINDOW} AS short,
            greatest(1, strpos(lower(h.body), regexp_replace(substring(h.q::text from '''((?:[^'']|'''')*)'''), 'i$', '')) - ${BEFORE}) AS l
     FROM hits h
   ),
   heads AS MATERIALIZED (
     SELECT f.*, ts_headline('english', CASE WHEN f.short THEN translate(f.body, chr(1) || chr(2), '')
                                             ELSE ${windowText(`substr(f.body, f.l, ${WINDOW + 1})`, 'f.l')} END,
                             f.q, ${HEADLINE}) AS head
     FROM found f
   )
   SELECT id, title, slug, published_at, rank,
          CASE WHEN short OR strpos(head, chr(1)) > 0 THEN head
               WHEN ts_filter(search, '{b}') @@ q THEN ts_headline('english', translate(body, chr(1) || chr(2), ''), q, ${HEADLINE})
               WHEN l = 1 THEN head
               ELSE ts_headline('english', ${windowText(`left(body, ${WINDOW + 1})`, '1')}, q, ${HEADLINE})
          END AS snippet
   FROM heads ORDER BY rank DESC, id DESC`;

// `filter` is a fixed condition on $4 (or nothing).
const fullText = (name: string, filter: string): NamedQuery => sql(
  name,
  `WITH hits AS (
     SELECT a.id, a.title, a.slug, a.body || '' AS body, a.search, a.published_at, ts_rank_cd(a.search, q) AS rank, q
     FROM articles_published a, websearch_to_tsquery('english', $1) AS q
     WHERE a.search @@ q AND a.status = 'published'${filter}
     ORDER BY rank DESC, a.id DESC
     LIMIT $2 OFFSET $3
   )${SNIPPETS}`,
);

/** SQL: the product's page of hits with `columns` (of a: the article, t: id, rank and q the query,
 *  and what `join` adds):
 *  pgpress_search_top (migrations 0107-0161; a query of one lexeme reads
 *  pgpress_article_search_terms) picks the top offset + limit exactly as ranking every match would,
 *  mostly without ranking them; $4 a metadata containment (JSON text) or null, $5 a language or null. */
const rankedPage = (columns: string, join = ''): string => `SELECT ${columns}
     FROM (SELECT s.id, s.rank, q
           FROM websearch_to_tsquery('english', $1) AS q, pgpress_search_top(q, $2::int + $3::int, $4::jsonb, $5::text) AS s) t
     JOIN articles_published a ON a.id = t.id ${join}
     ORDER BY t.rank DESC, t.id DESC
     LIMIT $2 OFFSET $3`;

/** The product's ranked search, snippets as in the full ranking, on the page only. */
export const searchRanked = sql(
  'search.ranked',
  `WITH hits AS (
     ${rankedPage("a.id, a.title, a.slug, a.body || '' AS body, a.search, a.published_at, t.rank, t.q")}
   )${SNIPPETS}`,
);

/** Characters of a body search.ranked.word sends at most: a body of more bytes is sliced from BEFORE
 *  ahead of the first place where the lexeme, less a final 'i' or 'e' ('query' stems to 'queri',
 *  'hoping' to 'hope'), appears as written (else in the lower-cased body; else from its beginning).
 *  A long article's body stays in the database; the repository finds the first match in the slice. */
export const BODY_SLICE = 2000;

/** The same page for a search of one word (letters only: one lexeme, or none for a stop word), each
 *  hit with the query's lexeme (quoted, as tsquery prints it), its body or a slice of it (BODY_SLICE
 *  + 1 characters: one more tells that the body goes on) and whether the slice starts inside the
 *  body, for the repository to make the snippets (wordSnippet.ts). */
export const searchRankedWord = sql(
  'search.ranked.word',
  rankedPage(
    `a.id, a.title, a.slug, a.published_at, t.rank, t.q::text AS lexeme, coalesce(s.start > 1, false) AS cut,
     CASE WHEN s.start IS NULL THEN a.body ELSE substr(a.body, s.start, ${BODY_SLICE + 1}) END AS body`,
    `CROSS JOIN LATERAL (SELECT CASE WHEN octet_length(a.body) > ${BODY_SLICE}
                                    THEN greatest(1, coalesce(nullif(strpos(a.body, x.p), 0), strpos(lower(a.body), x.p)) - ${BEFORE}) END AS start
                        FROM (SELECT regexp_replace(btrim(t.q::text, ''''), '[ie]$', '') AS p) x) s`,
  ),
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
