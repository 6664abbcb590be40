// Articles: create, read, update with optimistic locking, publish and archive.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/cluster.ts';
import { PointReadBatcher, type PointReads } from '../../db/pointReadBatch.ts';
import { PgpressError } from '../../errors/index.ts';
import { toId } from '../ids.ts';
import {
  archiveArticle, articleById, articleBySlug, articleAccess, articlesByIds, articleVersion, insertArticle, lockArticle, publishArticle, updateArticle,
} from './queries.ts';

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

/** getArticle's reads on db batched (batchingReads): those of one event-loop turn as one articlesByIds. */
export function articlePointReads(db: Queryable): PointReads {
  return new PointReadBatcher<ArticleRow>(db, { one: articleById, many: articlesByIds, keyOf: (r) => Number(r.id) });
}

/** Returns the article with this slug, or throws PGP_NOT_FOUND. */
export async function getArticleBySlug(db: Queryable, slug: string): Promise<Article> {
  const { rows } = await db.query<ArticleRow>(articleBySlug, [slug], { read: true });
  if (!rows[0]) throw new PgpressError('PGP_NOT_FOUND', `No article has the slug ${JSON.stringify(slug)}.`);
  return toArticle(rows[0]);
}

/** Who owns an article and its state, as a write's permission check sees them (on the primary). */
export interface ArticleAccess {
  authorId: number;
  status: ArticleStatus;
}

/** A write's permission check: throws (PGP_FORBIDDEN, PGP_NOT_FOUND) to refuse the write. */
export type ArticleCheck = (a: ArticleAccess) => void;

/**
 * Locks the article's row in the caller's transaction (FOR UPDATE, or FOR SHARE for a comment)
 * and runs check on what the primary holds: a lagging replica can neither hide a new article
 * from its owner nor show an archived one as open. A missing article is PGP_NOT_FOUND.
 */
export async function checkArticle(db: Queryable, id: number, check: ArticleCheck, lock: 'update' | 'share' = 'update'): Promise<void> {
  const locked = await db.query<{ found: boolean }>(lockArticle, [id, lock === 'update']);
  const { rows } = await db.query<{ author_id: string; status: ArticleStatus }>(articleAccess, [id]);
  if (!rows[0]) {
    // Hidden by row-level security (another author's draft): an edit is refused as before (403),
    // a comment answers as for a missing article (the draft is not shown to exist).
    if (locked.rows[0]?.found && lock === 'update') throw new PgpressError('PGP_FORBIDDEN', 'Authors may change only their own content.');
    throw new PgpressError('PGP_NOT_FOUND', `Article ${id} does not exist.`);
  }
  check({ authorId: toId(rows[0].author_id), status: rows[0].status });
}

/** The fields an update may change; absent fields keep their value. */
export interface ArticlePatch {
  title?: string;
  body?: string;
  slug?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/**
 * Why a versioned write matched no row: the article is gone or hidden from the actor (404), moved
 * on (409), or readable at that version but not the actor's to change (403: row-level security).
 */
async function versionMiss(db: Queryable, id: number, expected: number, cause?: unknown): Promise<never> {
  const { rows } = await db.query<{ version: number }>(articleVersion, [id]);
  if (!rows[0]) throw new PgpressError('PGP_NOT_FOUND', `Article ${id} does not exist.`);
  if (rows[0].version === expected) {
    throw new PgpressError('PGP_FORBIDDEN', `Article ${id} may be changed only by its author, an editor or an admin: name the acting user (and role) in the write's context.`);
  }
  throw new PgpressError('PGP_CONFLICT', `Article ${id} is at version ${rows[0].version}, not ${expected}: reload it and apply the change again.`, {
    cause, details: { field: 'version', currentVersion: rows[0].version },
  });
}

async function versioned(db: Queryable, q: typeof updateArticle, id: number, expected: number, params: unknown[], check?: ArticleCheck): Promise<Article> {
  if (check) await checkArticle(db, id, check);
  let rows: ArticleRow[];
  try {
    rows = (await db.query<ArticleRow>(q, [id, expected, ...params])).rows;
  } catch (e) {
    if ((e as PgpressError).pg?.sqlstate === '23505') {
      throw new PgpressError('PGP_CONFLICT', 'The slug is already taken.', { cause: e, details: { field: 'slug' } });
    }
    throw e;
  }
  return rows[0] ? toArticle(rows[0]) : versionMiss(db, id, expected);
}

/** Updates an article if it is still at `expectedVersion` (and check allows it); a stale version is PGP_CONFLICT. */
export function updateArticleFields(db: Queryable, id: number, expectedVersion: number, patch: ArticlePatch, check?: ArticleCheck): Promise<Article> {
  const params = [patch.title ?? null, patch.body ?? null, patch.slug ?? null, patch.tags ?? null, patch.metadata ?? null];
  return versioned(db, updateArticle, id, expectedVersion, params, check);
}

/** Publishes an article (keeps the first publication date); a stale version is PGP_CONFLICT. */
export function publish(db: Queryable, id: number, expectedVersion: number, check?: ArticleCheck): Promise<Article> {
  return versioned(db, publishArticle, id, expectedVersion, [], check);
}

/** Archives an article (it leaves the feed and search); a stale version is PGP_CONFLICT. */
export function archive(db: Queryable, id: number, expectedVersion: number, check?: ArticleCheck): Promise<Article> {
  return versioned(db, archiveArticle, id, expectedVersion, [], check);
}
