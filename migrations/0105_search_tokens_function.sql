-- An article's search tokens, for ranked search (pgpress_search_top; docs/schema.md, "Ranked
-- search"). A lexeme's impact s is ts_rank_cd of the lexeme alone, computed as ts_rank_cd computes
-- it (each position adds 1 / (1 / weight) in double precision, in position order), so s::real is
-- that rank exactly. Per lexeme:
--   'k:lexeme'  s::real is the real of the multiple of 0.2 (k + 3) / 5, for k = 1 .. 46 (0.8 .. 9.8):
--               every article holding this token has exactly the same rank for the lexeme;
--   '~:lexeme'  any other s from 0.75 up (9.9 and more, reals off their multiple of 0.2 such as nine
--               B's 3.6000001, odd multiples of 0.1 from weights C and D): ranked when searched;
--   '0:lexeme'  s below 0.75 but not 0.4;
--   none        s = 0.4, one occurrence in the body: by far the commonest case (the index stays small);
-- and '~long' when a position reached the 16383 cap (there, lexemes can share a position).
-- IMMUTABLE and indexed (articles_search_tokens_idx): never edit it; add a new function and index.
CREATE OR REPLACE FUNCTION pgpress_search_tokens(v tsvector) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
  RETURN (
    SELECT coalesce(array_agg(CASE WHEN s IS NULL OR s < 0.75 THEN '0:' || lexeme
                                   WHEN s < 9.9 AND abs(s * 5 - round(s * 5)) < 1e-6 AND s::real = (round((s * 5)::numeric) / 5)::real
                                   THEN (round(s * 5)::integer - 3) || ':' || lexeme
                                   ELSE '~:' || lexeme END)
                      FILTER (WHERE s IS NULL OR s < 0.35 OR s >= 0.45), '{}')
           || CASE WHEN bool_or(positions[cardinality(positions)] = 16383) THEN '{~long}'::text[] ELSE '{}' END
    FROM (
      SELECT lexeme, positions,
             CASE WHEN cardinality(weights) = 1
                  THEN 1.0::float8 / (1.0::float8 / CASE weights[1] WHEN 'A' THEN 1.0::real WHEN 'B' THEN 0.4::real WHEN 'C' THEN 0.2::real ELSE 0.1::real END::float8)
                  ELSE (SELECT sum(1.0::float8 / (1.0::float8 / CASE w WHEN 'A' THEN 1.0::real WHEN 'B' THEN 0.4::real WHEN 'C' THEN 0.2::real ELSE 0.1::real END::float8))
                        FROM unnest(weights) AS w)
             END AS s
      FROM unnest(v)
    ) l
  );
END
$$;
