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

// Point reads of one event-loop turn in one statement (src/db/pointReadBatch.ts): the same columns as articleById.
export const articlesByIds = sql('articles.byIds', `SELECT ${COLUMNS} FROM articles WHERE id = ANY($1::bigint[])`);

export const articleBySlug = sql('articles.bySlug', `SELECT ${COLUMNS} FROM articles WHERE slug = $1`);

export const articleVersion = sql('articles.version', 'SELECT version FROM articles WHERE id = $1');

// A write's permission check locks the row on the primary: the check and the write see one state.
// The lock is taken by pgpress_lock_article (migration 0072, as the owner: row-level security
// would let the caller lock only rows it may change), then the row is read under the caller's
// policies in a statement of its own (a new snapshot in READ COMMITTED: the latest committed row).
// $2: FOR UPDATE (an edit) or FOR SHARE (a comment: holds off an archive until it commits, and
// waits for one in flight).
export const lockArticle = sql('articles.lock', 'SELECT pgpress_lock_article($1::bigint, $2::boolean) AS found');
export const articleAccess = sql('articles.access', 'SELECT author_id, status FROM articles WHERE id = $1');

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
