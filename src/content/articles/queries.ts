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
