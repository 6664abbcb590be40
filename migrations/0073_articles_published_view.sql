-- The published articles, for the public reads (feed, search, similar titles). Row-level security
-- (0070) adds its policy to every query on articles by the app role, and PostgreSQL then lets only
-- leakproof operators reach an index: tsvector @@, jsonb @> and pg_trgm % are not, so search and
-- metadata feeds fell back to sequential scans. This view runs as its owner (pgpress_owner,
-- BYPASSRLS: no policy is added) and shows only what every caller may see, published rows, so
-- the callers' conditions use the indexes again. Not security_invoker on purpose; it leaks nothing
-- (test/security/rls.test.ts reads it with no context and finds no draft or archived article).
SET LOCAL lock_timeout = '5s';
CREATE OR REPLACE VIEW articles_published AS
  SELECT * FROM articles WHERE status = 'published';

ALTER VIEW articles_published OWNER TO pgpress_owner;
GRANT SELECT ON articles_published TO pgpress_app, pgpress_readonly;
