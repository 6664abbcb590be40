// Named SQL for articles.
import { sql } from '../../db/sql.ts';

const COLUMNS = `id, author_id, title, slug, body, status, tags, metadata, version,
  created_at, updated_at, published_at`;

export const insertArticle = sql(
  'articles.insert',
  `INSERT INTO articles (author_id, title, slug, body, status, tags, metadata, published_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $5 = 'published' THEN now() END)
   RETURNING ${COLUMNS}`,
);

export const articleById = sql('articles.byId', `SELECT ${COLUMNS} FROM articles WHERE id = $1`);

export const articleBySlug = sql('articles.bySlug', `SELECT ${COLUMNS} FROM articles WHERE slug = $1`);

export const articleVersion = sql('articles.version', 'SELECT version FROM articles WHERE id = $1');

// A write's permission check locks the row on the primary: the check and the write see one state.
export const articleForWrite = sql('articles.forWrite', 'SELECT author_id, status FROM articles WHERE id = $1 FOR UPDATE');

// A comment's check: FOR SHARE holds off an archive until the comment commits, and waits for one in flight.
export const articleForComment = sql('articles.forComment', 'SELECT author_id, status FROM articles WHERE id = $1 FOR SHARE');

// Optimistic locking: every write names the version it read; a stale one matches no row.
export const updateArticle = sql(
  'articles.update',
  `UPDATE articles
      SET title = coalesce($3, title), body = coalesce($4, body), slug = coalesce($5, slug),
          tags = coalesce($6, tags), metadata = coalesce($7, metadata),
          version = version + 1, updated_at = now()
    WHERE id = $1 AND version = $2
   RETURNING ${COLUMNS}`,
);

export const publishArticle = sql(
  'articles.publish',
  `UPDATE articles
      SET status = 'published', published_at = coalesce(published_at, now()), version = version + 1, updated_at = now()
    WHERE id = $1 AND version = $2
   RETURNING ${COLUMNS}`,
);

export const archiveArticle = sql(
  'articles.archive',
  `UPDATE articles SET status = 'archived', version = version + 1, updated_at = now()
    WHERE id = $1 AND version = $2
   RETURNING ${COLUMNS}`,
);
