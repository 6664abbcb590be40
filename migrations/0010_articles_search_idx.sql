-- pgpress:no-transaction
-- Full-text search: GIN on the weighted tsvector, for websearch_to_tsquery + ts_rank_cd.
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_search_idx ON articles USING gin (search);
