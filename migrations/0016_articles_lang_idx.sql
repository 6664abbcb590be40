-- pgpress:no-transaction
-- The hot metadata key: articles by language (`metadata->>'lang' = $1`), a plain B-tree on the expression.
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_lang_idx ON articles ((metadata ->> 'lang'));
