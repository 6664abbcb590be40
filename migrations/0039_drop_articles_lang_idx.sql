-- pgpress:no-transaction
-- articles_lang_feed_idx (0038) serves every read by language: its leading column is the same
-- expression and every such read is of published articles; given both, the planner picks it for
-- the language feed and for search by language alike. articles_lang_idx served no statement and
-- cost every write to articles an index update.
DROP INDEX CONCURRENTLY IF EXISTS articles_lang_idx;
