// Comments: threaded replies, listed in posting order, soft-deleted by their author.
import type { Queryable } from '../../db/cluster.ts';
import { PgpressError } from '../../errors/index.ts';
import { checkArticle, type ArticleCheck } from '../articles/repository.ts';
import { toId } from '../ids.ts';
import { commentById, commentsOfArticle, insertComment, softDeleteComment } from './queries.ts';

/** Idempotent reads: retried on connection loss, served by a replica when one is fresh enough. */
const READ = { read: true } as const;

/** A comment; a deleted one keeps its place in the thread with body null. */
export interface Comment {
  id: number;
  articleId: number;
  authorId: number;
  parentId: number | null;
  body: string | null;
  createdAt: string;
  deletedAt: string | null;
}

/** What it takes to comment (the author is the acting user). */
export interface NewComment {
  articleId: number;
  authorId: number;
  parentId?: number | null;
  body: string;
}

interface CommentRow {
  id: string;
  article_id: string;
  author_id: string;
  parent_id: string | null;
  body: string;
  created_at: Date;
  deleted_at: Date | null;
}

function toComment(r: CommentRow): Comment {
  return {
    id: toId(r.id),
    articleId: toId(r.article_id),
    authorId: toId(r.author_id),
    parentId: r.parent_id === null ? null : toId(r.parent_id),
    body: r.deleted_at ? null : r.body,
    createdAt: r.created_at.toISOString(),
    deletedAt: r.deleted_at?.toISOString() ?? null,
  };
}

/**
 * Adds a comment; an unknown article or author, or a parent on another article, is PGP_UNPROCESSABLE.
 * check, when given, decides on the article as the primary holds it, in the same transaction.
 */
export async function createComment(db: Queryable, input: NewComment, check?: ArticleCheck): Promise<Comment> {
  if (check) await checkArticle(db, input.articleId, check, 'share');
  try {
    const { rows } = await db.query<CommentRow>(insertComment, [input.articleId, input.authorId, input.parentId ?? null, input.body]);
    return toComment(rows[0]!);
  } catch (e) {
    if ((e as PgpressError).pg?.sqlstate === '23503') {
      const parent = (e as PgpressError).pg?.constraint === 'comments_parent_same_article';
      throw new PgpressError('PGP_UNPROCESSABLE', parent ? 'The parent comment is not on this article.' : 'The article or the author does not exist.', {
        cause: e, details: { field: parent ? 'parentId' : 'articleId' },
      });
    }
    throw e;
  }
}

/** A page of an article's comments in posting order, after comment id `afterId`. */
export async function listComments(db: Queryable, articleId: number, opts: { afterId?: number; limit?: number } = {}): Promise<Comment[]> {
  const limit = opts.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new PgpressError('PGP_VALIDATION', 'limit must be between 1 and 200.', { details: { field: 'limit' } });
  const { rows } = await db.query<CommentRow>(commentsOfArticle, [articleId, opts.afterId ?? 0, limit], READ);
  return rows.map(toComment);
}

/** Soft-deletes a comment by its author; someone else's is PGP_FORBIDDEN, an unknown one PGP_NOT_FOUND. */
export async function deleteComment(db: Queryable, id: number, actorId: number): Promise<Comment> {
  const { rows } = await db.query<CommentRow>(softDeleteComment, [id, actorId]);
  if (rows[0]) return toComment(rows[0]);
  const existing = (await db.query<CommentRow>(commentById, [id])).rows[0];
  if (!existing) throw new PgpressError('PGP_NOT_FOUND', `Comment ${id} does not exist.`);
  if (existing.deleted_at) return toComment(existing); // deleting twice is a no-op
  throw new PgpressError('PGP_FORBIDDEN', 'Only its author may delete a comment.');
}
