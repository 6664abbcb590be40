// Named SQL for comments.
import { sql } from '../../db/sql.ts';

const COLUMNS = 'id, article_id, author_id, parent_id, body, created_at, updated_at, deleted_at';

export const insertComment = sql(
  'comments.insert',
  `INSERT INTO comments (article_id, author_id, parent_id, body) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
);

// A thread in posting order (keyset on id); deleted comments stay as placeholders so replies
// keep their parent.
export const commentsOfArticle = sql(
  'comments.ofArticle',
  `SELECT ${COLUMNS} FROM comments WHERE article_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
);

export const softDeleteComment = sql(
  'comments.softDelete',
  `UPDATE comments SET deleted_at = now(), updated_at = now()
   WHERE id = $1 AND author_id = $2 AND deleted_at IS NULL
   RETURNING ${COLUMNS}`,
);

export const commentById = sql('comments.byId', `SELECT ${COLUMNS} FROM comments WHERE id = $1`);
