-- The search functions as every pgpress function: owned by pgpress_owner, not callable by PUBLIC
-- (0064); the application and read-only roles execute them (a write evaluates
-- pgpress_search_tokens for articles_search_tokens_idx; a search calls pgpress_search_top).
ALTER FUNCTION pgpress_search_tokens(tsvector) OWNER TO pgpress_owner;
ALTER FUNCTION pgpress_search_top(tsquery, integer, jsonb, text) OWNER TO pgpress_owner;
REVOKE ALL ON FUNCTION pgpress_search_tokens(tsvector) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgpress_search_top(tsquery, integer, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgpress_search_tokens(tsvector) TO pgpress_app, pgpress_readonly;
GRANT EXECUTE ON FUNCTION pgpress_search_top(tsquery, integer, jsonb, text) TO pgpress_app, pgpress_readonly;
