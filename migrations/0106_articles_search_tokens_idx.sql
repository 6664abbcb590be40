-- pgpress:no-transaction
-- Ranked search's tokens (pgpress_search_tokens): the articles holding a lexeme at a given rank,
-- found without reading the many that hold it once. GIN array_ops answers && exactly (no recheck).
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_search_tokens_idx ON articles USING gin (pgpress_search_tokens(search));
