-- pgpress:no-transaction
-- Tag filters (`tags @> ARRAY[$1]`): GIN over the text[] (see 0004 for why an array, not a join).
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_tags_idx ON articles USING gin (tags);
