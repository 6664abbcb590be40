-- pgpress:no-transaction
-- Typo-tolerant title lookup: trigram GIN serves `title % $1` (similarity) and ILIKE '%…%'.
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_title_trgm_idx ON articles USING gin (title gin_trgm_ops);
