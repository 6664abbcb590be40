-- pgpress:no-transaction
-- The public feed: published articles newest first, keyset-paginated on (published_at, id).
-- Partial (drafts never enter it) and covering (INCLUDE the card's columns), so a feed page is an
-- index-only scan walked backwards.
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_feed_idx ON articles (published_at, id)
  INCLUDE (author_id, title, slug) WHERE status = 'published';
