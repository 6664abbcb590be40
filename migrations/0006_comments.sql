-- Comments: threaded through parent_id (a reply stays on its parent's article, enforced by the
-- composite foreign key), soft-deleted through deleted_at so a thread keeps its shape.
CREATE TABLE IF NOT EXISTS comments (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  article_id bigint      NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  author_id  bigint      NOT NULL REFERENCES users (id),
  parent_id  bigint,
  body       text        NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT comments_article_id_key UNIQUE (article_id, id),
  CONSTRAINT comments_parent_same_article FOREIGN KEY (article_id, parent_id) REFERENCES comments (article_id, id) ON DELETE CASCADE,
  CONSTRAINT comments_not_own_parent CHECK (parent_id IS DISTINCT FROM id),
  CONSTRAINT comments_deleted_after_created CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

CREATE INDEX IF NOT EXISTS comments_article_idx ON comments (article_id, created_at, id);
CREATE INDEX IF NOT EXISTS comments_author_idx ON comments (author_id, created_at);
CREATE INDEX IF NOT EXISTS comments_parent_idx ON comments (parent_id) WHERE parent_id IS NOT NULL;
