// Articles: create and read.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/cluster.ts';
import { PgpressError } from '../../errors/index.ts';
import { toId } from '../ids.ts';
import { articleById, insertArticle } from './queries.ts';

/** The lifecycle states of an article. */
export type ArticleStatus = 'draft' | 'published' | 'archived';

/** An article as the API and library return it. */
export interface Article {
  id: number;
  authorId: number;
  title: string;
  slug: string;
  body: string;
  status: ArticleStatus;
  tags: string[];
  metadata: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
}

/** What it takes to create an article. */
export interface NewArticle {
  authorId: number;
  title: string;
  body?: string;
  slug?: string;
  status?: 'draft' | 'published';
  tags?: string[];
  metadata?: Record<string, unknown>;
}

interface ArticleRow {
  id: string;
  author_id: string;
  title: string;
  slug: string;
  body: string;
  status: ArticleStatus;
  tags: string[];
  metadata: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
  published_at: Date | null;
}

function toArticle(r: ArticleRow): Article {
  return {
    id: toId(r.id),
    authorId: toId(r.author_id),
    title: r.title,
    slug: r.slug,
    body: r.body,
    status: r.status,
    tags: r.tags,
    metadata: r.metadata,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    publishedAt: r.published_at ? r.published_at.toISOString() : null,
  };
}

/** A URL slug from a title plus a short random suffix, so two equal titles do not collide. */
export function slugFromTitle(title: string): string {
  const base = title
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  const suffix = randomBytes(4).readUInt32BE(0).toString(36);
  return base ? `${base}-${suffix}` : `article-${suffix}`;
}

/** Creates an article; an unknown author is PGP_UNPROCESSABLE, a taken slug PGP_CONFLICT. */
export async function createArticle(db: Queryable, input: NewArticle): Promise<Article> {
  const params = [
    input.authorId,
    input.title,
    input.slug ?? slugFromTitle(input.title),
    input.body ?? '',
    input.status ?? 'draft',
    input.tags ?? [],
    input.metadata ?? {},
  ];
  try {
    const { rows } = await db.query<ArticleRow>(insertArticle, params);
    return toArticle(rows[0]!);
  } catch (e) {
    const pgErr = (e as PgpressError).pg;
    if (pgErr?.sqlstate === '23503') {
      throw new PgpressError('PGP_UNPROCESSABLE', `Author ${input.authorId} does not exist.`, { cause: e, details: { field: 'authorId' } });
    }
    if (pgErr?.sqlstate === '23505') {
      throw new PgpressError('PGP_CONFLICT', `The slug ${JSON.stringify(params[2])} is already taken.`, { cause: e, details: { field: 'slug' } });
    }
    throw e;
  }
}

/** Returns the article with this id, or throws PGP_NOT_FOUND. */
export async function getArticle(db: Queryable, id: number): Promise<Article> {
  const { rows } = await db.query<ArticleRow>(articleById, [id], { read: true });
  if (!rows[0]) throw new PgpressError('PGP_NOT_FOUND', `Article ${id} does not exist.`);
  return toArticle(rows[0]);
}
