-- pgpress_search_top (0112, 0150) reads a query of one lexeme from pgpress_article_search_terms
-- (0160) instead of walking the GIN tiers: the lexeme's entries read backwards are its published
-- articles best first (rank DESC, id DESC), so the top n are the first n entries, one index scan,
-- where the walk spent one probe per tier, up to 46, most of them empty (docs/schema.md has the
-- figures). The page is then, as before: the entries (rank above 0.4), and if they are fewer
-- than n, the newest of the remaining matches (each holding the lexeme once in its body: rank 0.4),
-- then any entries below 0.4. With a metadata or language filter the entries are read in batches
-- (4n, at least 40, keyset on (rank, id)) and each batch's articles filtered, until n pass. The
-- page's ranks are read from its articles at the end: an entry the table holds wrongly (or an
-- article no longer published) sends the query to the full ranking, as a denied tier did. Several
-- lexemes, phrases, negation, prefixes and filters keeping fewer than 1000 articles: unchanged.
-- ROWS 10 (a page), not the default 1000: with 1000 the caller's statement (search.ranked) planned
-- a custom plan on every execution, its generic plan looking far dearer; with 10 it keeps the generic.
CREATE OR REPLACE FUNCTION pgpress_search_top(q tsquery, n integer, p_meta jsonb DEFAULT NULL, p_lang text DEFAULT NULL)
RETURNS TABLE (id bigint, rank real) LANGUAGE plpgsql STABLE SECURITY DEFINER
ROWS 10 SET search_path = pg_catalog, public, pg_temp SET jit = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  qt text := q::text;
  lex text;
  page_ids bigint[] := '{}';
  page_ranks real[] := '{}';
  real_ranks real[];
  b_ids bigint[];
  b_ranks real[];
  batch integer := greatest(4 * n, 40);
  last_rank real;
  last_id bigint;
  few boolean := false;
BEGIN
  IF n < 1 THEN RETURN; END IF;
  IF p_meta IS NOT NULL THEN
    few := (SELECT count(*) FROM (SELECT FROM articles a WHERE a.metadata @> p_meta AND a.status = 'published' LIMIT 1000) x) < 1000;
  ELSIF p_lang IS NOT NULL THEN
    few := (SELECT count(*) FROM (SELECT FROM articles a WHERE (a.metadata ->> 'lang') = p_lang AND a.status = 'published' LIMIT 1000) x) < 1000;
  END IF;
  -- One lexeme, plainly: 'lexeme' with no operator, prefix or weight. Its text is unquoted and then
  -- checked, not trusted: the query must be exactly that lexeme.
  IF NOT few AND numnode(q) = 1 AND qt ~ '^''.*''$' THEN
    lex := replace(replace(substr(qt, 2, length(qt) - 2), '''''', ''''), '\\', '\');
    IF array_to_tsvector(ARRAY[lex]) @@ q AND NOT (array_to_tsvector(ARRAY[lex || 'x']) @@ q) THEN
      -- Each statement reads the terms table alone, in its key's order: its generic plan is the
      -- ordered index scan (joined to articles, the planner sorted every entry of the lexeme).
      IF p_meta IS NULL AND p_lang IS NULL THEN
        SELECT coalesce(array_agg(t.article_id), '{}'), coalesce(array_agg(t.rank), '{}') INTO page_ids, page_ranks
        FROM (SELECT s.article_id, s.rank FROM pgpress_article_search_terms s WHERE s.lexeme = lex AND s.rank >= 0.45
              ORDER BY s.rank DESC, s.article_id DESC LIMIT n) t;
      ELSE
        LOOP
          IF last_rank IS NULL THEN
            SELECT coalesce(array_agg(t.article_id), '{}'), coalesce(array_agg(t.rank), '{}') INTO b_ids, b_ranks
            FROM (SELECT s.article_id, s.rank FROM pgpress_article_search_terms s WHERE s.lexeme = lex AND s.rank >= 0.45
                  ORDER BY s.rank DESC, s.article_id DESC LIMIT batch) t;
          ELSE
            SELECT coalesce(array_agg(t.article_id), '{}'), coalesce(array_agg(t.rank), '{}') INTO b_ids, b_ranks
            FROM (SELECT s.article_id, s.rank FROM pgpress_article_search_terms s WHERE s.lexeme = lex AND s.rank >= 0.45
                    AND (s.rank, s.article_id) < (last_rank, last_id)
                  ORDER BY s.rank DESC, s.article_id DESC LIMIT batch) t;
          END IF;
          EXIT WHEN cardinality(b_ids) = 0;
          last_rank := b_ranks[cardinality(b_ranks)];
          last_id := b_ids[cardinality(b_ids)];
          SELECT page_ids || coalesce(array_agg(u.id ORDER BY u.o), '{}'), page_ranks || coalesce(array_agg(u.r ORDER BY u.o), '{}') INTO page_ids, page_ranks
          FROM (SELECT u.id, u.r, u.o FROM unnest(b_ids, b_ranks) WITH ORDINALITY AS u(id, r, o)
                JOIN articles a ON a.id = u.id AND a.status = 'published'
                WHERE (p_meta IS NULL OR a.metadata @> p_meta) AND (p_lang IS NULL OR (a.metadata ->> 'lang') = p_lang)
                ORDER BY u.o LIMIT n - cardinality(page_ids)) u;
          EXIT WHEN cardinality(page_ids) >= n OR cardinality(b_ids) < batch;
        END LOOP;
      END IF;
      IF cardinality(page_ids) < n THEN
        SELECT page_ids || coalesce(array_agg(x.id ORDER BY x.id DESC), '{}'), page_ranks || coalesce(array_agg(0.4::real), '{}') INTO page_ids, page_ranks
        FROM (SELECT a.id FROM articles a
              WHERE a.search @@ q AND a.status = 'published'
                AND a.id NOT IN (SELECT s.article_id FROM pgpress_article_search_terms s WHERE s.lexeme = lex)
                AND (p_meta IS NULL OR a.metadata @> p_meta) AND (p_lang IS NULL OR (a.metadata ->> 'lang') = p_lang)
              ORDER BY a.id DESC LIMIT n - cardinality(page_ids)) x;
        IF cardinality(page_ids) < n THEN
          SELECT page_ids || coalesce(array_agg(x.article_id ORDER BY x.rank DESC, x.article_id DESC), '{}'), page_ranks || coalesce(array_agg(x.rank ORDER BY x.rank DESC, x.article_id DESC), '{}')
            INTO page_ids, page_ranks
          FROM (SELECT s.article_id, s.rank FROM pgpress_article_search_terms s JOIN articles a ON a.id = s.article_id
                WHERE s.lexeme = lex AND s.rank < 0.35
                  AND (p_meta IS NULL OR a.metadata @> p_meta) AND (p_lang IS NULL OR (a.metadata ->> 'lang') = p_lang)
                ORDER BY s.rank DESC, s.article_id DESC LIMIT n - cardinality(page_ids)) x;
        END IF;
      END IF;
      -- The page's ranks as the articles give them: a row the table holds wrongly sends the query to the full ranking.
      SELECT array_agg(ts_rank_cd(a.search, q) ORDER BY u.o) INTO real_ranks
      FROM unnest(page_ids) WITH ORDINALITY AS u(id, o) JOIN articles a ON a.id = u.id AND a.status = 'published';
      IF coalesce(real_ranks, '{}') = page_ranks THEN
        RETURN QUERY SELECT u.id, u.r FROM unnest(page_ids, page_ranks) AS u(id, r);
        RETURN;
      END IF;
    END IF;
  END IF;
  -- The full ranking, as the statements search.fullText, search.fullText.meta and .lang.
  IF p_meta IS NOT NULL AND p_lang IS NOT NULL THEN
    RETURN QUERY SELECT a.id, ts_rank_cd(a.search, q) AS rank FROM articles a
      WHERE a.search @@ q AND a.status = 'published' AND a.metadata @> p_meta AND (a.metadata ->> 'lang') = p_lang
      ORDER BY rank DESC, a.id DESC LIMIT n;
  ELSIF p_meta IS NOT NULL THEN
    RETURN QUERY SELECT a.id, ts_rank_cd(a.search, q) AS rank FROM articles a
      WHERE a.search @@ q AND a.status = 'published' AND a.metadata @> p_meta
      ORDER BY rank DESC, a.id DESC LIMIT n;
  ELSIF p_lang IS NOT NULL THEN
    RETURN QUERY SELECT a.id, ts_rank_cd(a.search, q) AS rank FROM articles a
      WHERE a.search @@ q AND a.status = 'published' AND (a.metadata ->> 'lang') = p_lang
      ORDER BY rank DESC, a.id DESC LIMIT n;
  ELSE
    RETURN QUERY SELECT a.id, ts_rank_cd(a.search, q) AS rank FROM articles a
      WHERE a.search @@ q AND a.status = 'published'
      ORDER BY rank DESC, a.id DESC LIMIT n;
  END IF;
END
$$;
