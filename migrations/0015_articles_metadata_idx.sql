-- pgpress:no-transaction
-- Containment queries on metadata (`metadata @> $1::jsonb`): jsonb_path_ops is smaller and faster
-- than the default jsonb_ops for @>, which is the only operator we use on it.
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_metadata_idx ON articles USING gin (metadata jsonb_path_ops);
