-- Ranked search's per-lexeme ranks of published articles, ordered (docs/schema.md, "Ranked search"):
-- one row (lexeme, rank, article) for each lexeme of a published article whose rank alone is not
-- 0.4 (one occurrence in the body: by far the commonest pair, found through articles_search_idx).
-- rank is that lexeme's ts_rank_cd, computed as pgpress_search_tokens computes it (0105): each
-- position adds 1 / (1 / weight) in double precision, in position order, cast to real. The primary
-- key is the order a one-lexeme search wants: its top n are the first n entries read backwards, where
-- the GIN tokens (0105-0107) needed one probe per tier, up to 46.
-- Kept by a trigger on articles (insert, update of title, body or status, delete, truncate); the
-- trigger removes an article's old rows by recomputing them from OLD.search, key by key: so
-- pgpress_search_terms is IMMUTABLE and never edited (a new function and a new table instead).
SET LOCAL lock_timeout = '5s';

CREATE OR REPLACE FUNCTION pgpress_search_terms(v tsvector) RETURNS TABLE (lexeme text, rank real)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT l.lexeme, l.s::real
  FROM (SELECT u.lexeme,
               CASE WHEN cardinality(u.weights) = 1
                    THEN 1.0::float8 / (1.0::float8 / CASE u.weights[1] WHEN 'A' THEN 1.0::real WHEN 'B' THEN 0.4::real WHEN 'C' THEN 0.2::real ELSE 0.1::real END::float8)
                    ELSE (SELECT sum(1.0::float8 / (1.0::float8 / CASE w WHEN 'A' THEN 1.0::real WHEN 'B' THEN 0.4::real WHEN 'C' THEN 0.2::real ELSE 0.1::real END::float8))
                          FROM unnest(u.weights) AS w)
               END AS s
        FROM unnest(v) AS u) l
  WHERE l.s < 0.35 OR l.s >= 0.45
$$;

CREATE TABLE IF NOT EXISTS pgpress_article_search_terms (
  lexeme     text   NOT NULL,
  rank       real   NOT NULL,
  article_id bigint NOT NULL,
  PRIMARY KEY (lexeme, rank, article_id)
);

-- Runs as its owner (writers need no grant on the table); search_path pinned.
CREATE OR REPLACE FUNCTION pgpress_article_search_terms_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.search IS NOT DISTINCT FROM NEW.search THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'published' AND OLD.search IS NOT NULL THEN
    DELETE FROM pgpress_article_search_terms t
    USING pgpress_search_terms(OLD.search) o
    WHERE t.lexeme = o.lexeme AND t.rank = o.rank AND t.article_id = OLD.id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'published' AND NEW.search IS NOT NULL THEN
    INSERT INTO pgpress_article_search_terms (lexeme, rank, article_id)
    SELECT o.lexeme, o.rank, NEW.id FROM pgpress_search_terms(NEW.search) o
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION pgpress_article_search_terms_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  TRUNCATE pgpress_article_search_terms;
  RETURN NULL;
END
$$;

-- The trigger first, then the existing rows: its lock (SHARE ROW EXCLUSIVE) holds writers until
-- this transaction commits, so no write falls between the two.
CREATE OR REPLACE TRIGGER articles_search_terms AFTER INSERT OR UPDATE OF title, body, status OR DELETE ON articles
  FOR EACH ROW EXECUTE FUNCTION pgpress_article_search_terms_sync();
CREATE OR REPLACE TRIGGER articles_search_terms_truncate AFTER TRUNCATE ON articles
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_article_search_terms_truncate();

INSERT INTO pgpress_article_search_terms (lexeme, rank, article_id)
SELECT o.lexeme, o.rank, a.id FROM articles a, pgpress_search_terms(a.search) o
WHERE a.status = 'published' AND a.search IS NOT NULL
ON CONFLICT DO NOTHING;

REVOKE ALL ON pgpress_article_search_terms FROM PUBLIC;
REVOKE ALL ON FUNCTION pgpress_search_terms(tsvector) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgpress_article_search_terms_sync() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgpress_article_search_terms_truncate() FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_owner') THEN
    ALTER TABLE pgpress_article_search_terms OWNER TO pgpress_owner;
    ALTER FUNCTION pgpress_search_terms(tsvector) OWNER TO pgpress_owner;
    ALTER FUNCTION pgpress_article_search_terms_sync() OWNER TO pgpress_owner;
    ALTER FUNCTION pgpress_article_search_terms_truncate() OWNER TO pgpress_owner;
  END IF;
END
$$;
