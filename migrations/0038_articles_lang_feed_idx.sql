-- pgpress:no-transaction
-- A language's feed (`status = 'published' AND (metadata ->> 'lang') = $n ORDER BY published_at DESC,
-- id DESC`, keyset on (published_at, id)): equality on the leading expression, then the feed's order,
-- so a page reads only its language's rows, in order, for every language. The prepared statement's
-- generic plan cannot see the value; with articles_lang_idx alone it walks articles_feed_idx and
-- filters, reading 1/share rows per row kept (100 per row for a language of 1 %). No INCLUDE: the
-- planner cannot turn a query on `metadata` into an index-only scan of an expression on it anyway.
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_lang_feed_idx ON articles ((metadata ->> 'lang'), published_at, id)
  WHERE status = 'published';
