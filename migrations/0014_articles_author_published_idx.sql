-- pgpress:no-transaction
-- An author's published articles (profile page): partial, so drafts and archived rows cost nothing.
CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_author_published_idx ON articles (author_id, published_at DESC)
  WHERE status = 'published';
