-- pgpress_search_top (0110) runs as its owner (SECURITY DEFINER, pgpress_owner: BYPASSRLS, search_path
-- pinned). Under row-level security (0070) the caller's statements could use neither
-- articles_search_idx nor articles_search_tokens_idx: @@ and && are not leakproof, so the planner
-- must apply the policy first and scans every row. The function returns published articles only,
-- which the read policy shows to every caller, and only their ids and ranks: it shows no more than
-- the caller may see; the caller's own statement reads the rows by id, under its policies.
CREATE OR REPLACE FUNCTION pgpress_search_top(q tsquery, n integer, p_meta jsonb DEFAULT NULL, p_lang text DEFAULT NULL)
RETURNS TABLE (id bigint, rank real) LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp SET jit = off AS $$
DECLARE
  qt text := q::text;
  lex text;
  ids bigint[];
  ranks real[];
  tier bigint[];
  tier_ranks real[];
  page_ids bigint[];
  page_ranks real[];
  real_ranks real[];
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
      SELECT coalesce(array_agg(a.id), '{}'), coalesce(array_agg(ts_rank_cd(a.search, q)), '{}') INTO ids, ranks
      FROM articles a
      WHERE pgpress_search_tokens(a.search) && ARRAY['~:' || lex] AND (a.search @@ q) IS TRUE AND a.status = 'published'
        AND (p_meta IS NULL OR a.metadata @> p_meta) AND (p_lang IS NULL OR (a.metadata ->> 'lang') = p_lang);
      -- Best tier first, newest first within a tier; the LIMIT stops the walk.
      SELECT coalesce(array_agg(w.id ORDER BY w.k DESC, w.id DESC), '{}'),
             coalesce(array_agg(((w.k + 3)::numeric / 5)::real ORDER BY w.k DESC, w.id DESC), '{}')
        INTO tier, tier_ranks
      FROM (SELECT t.k, x.id
            FROM generate_series(46, 1, -1) AS t(k)
            CROSS JOIN LATERAL (SELECT a.id FROM articles a
                                WHERE pgpress_search_tokens(a.search) && ARRAY[t.k || ':' || lex] AND a.status = 'published'
                                  AND (p_meta IS NULL OR a.metadata @> p_meta) AND (p_lang IS NULL OR (a.metadata ->> 'lang') = p_lang)
                                ORDER BY a.id DESC) AS x
            LIMIT n) AS w;
      IF cardinality(tier) < n THEN
        SELECT ids || coalesce(array_agg(a.id), '{}'), ranks || coalesce(array_agg(ts_rank_cd(a.search, q)), '{}') INTO ids, ranks
        FROM articles a
        WHERE pgpress_search_tokens(a.search) && ARRAY['0:' || lex] AND a.status = 'published'
          AND (p_meta IS NULL OR a.metadata @> p_meta) AND (p_lang IS NULL OR (a.metadata ->> 'lang') = p_lang);
        SELECT tier || coalesce(array_agg(x.id ORDER BY x.id DESC), '{}'), tier_ranks || coalesce(array_agg(0.4::real ORDER BY x.id DESC), '{}')
          INTO tier, tier_ranks
        FROM (SELECT a.id FROM articles a
              WHERE a.search @@ q AND a.status = 'published' AND a.id <> ALL (ids || tier)
                AND (p_meta IS NULL OR a.metadata @> p_meta) AND (p_lang IS NULL OR (a.metadata ->> 'lang') = p_lang)
              ORDER BY a.id DESC LIMIT n) AS x;
      END IF;
      SELECT array_agg(p.id ORDER BY p.rank DESC, p.id DESC), array_agg(p.rank ORDER BY p.rank DESC, p.id DESC),
             array_agg(ts_rank_cd(a.search, q) ORDER BY p.rank DESC, p.id DESC)
        INTO page_ids, page_ranks, real_ranks
      FROM (SELECT u.id, u.rank FROM (SELECT * FROM unnest(ids, ranks) UNION ALL SELECT * FROM unnest(tier, tier_ranks)) AS u(id, rank)
            ORDER BY u.rank DESC, u.id DESC LIMIT n) p
      JOIN articles a ON a.id = p.id;
      IF page_ranks IS NOT DISTINCT FROM real_ranks THEN
        RETURN QUERY SELECT u.id, u.rank FROM unnest(page_ids, page_ranks) AS u(id, rank);
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
