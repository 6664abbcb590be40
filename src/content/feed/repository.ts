// The feed: keyset pagination with an opaque cursor.
import type { Queryable } from '../../db/cluster.ts';
import { PgpressError } from '../../errors/index.ts';
import { toId } from '../ids.ts';
import type { NamedQuery } from '../../db/sql.ts';
import { resolveFilter, type ContentFilter } from './filter.ts';
import {
  authorFeedFirstPage, authorFeedNextPage, feedFirstPage, feedNextPage, langFeedFirstPage, langFeedNextPage,
  metaFeedFirstPage, metaFeedNextPage, tagFeedFirstPage, tagFeedNextPage,
} from './queries.ts';

/** Idempotent reads: retried on connection loss, served by a replica when one is fresh enough. */
const READ = { read: true } as const;

/** One entry of the feed (what a list shows, not the body). */
export interface FeedItem {
  id: number;
  authorId: number;
  title: string;
  slug: string;
  publishedAt: string;
}

/** A page of the feed; nextCursor is null on the last page. */
export interface FeedPage {
  items: FeedItem[];
  nextCursor: string | null;
}

interface FeedRow {
  id: string;
  author_id: string;
  title: string;
  slug: string;
  published_at: Date;
  published_us: string;
}

function encodeCursor(us: string, id: string): string {
  return Buffer.from(JSON.stringify([us, id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string' && /^-?\d{1,19}$/.test(x))) return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new PgpressError('PGP_VALIDATION', 'The cursor is not one this feed handed out.', { details: { field: 'cursor' } });
}

/** Which page of which feed: everything, one author's, one tag's, or the articles a metadata /
 *  language filter (ContentFilter: `meta`, `lang`, which combine) selects — one kind at a time. */
export interface FeedOptions extends ContentFilter {
  limit?: number;
  cursor?: string | null;
  authorId?: number;
  tag?: string;
}

/** The first- and next-page statements of one feed, and its filter value (if any). */
function feedStatements(opts: FeedOptions): [NamedQuery, NamedQuery, unknown[]] {
  const content = resolveFilter(opts);
  const kinds = [opts.authorId !== undefined, opts.tag !== undefined, content.kind !== 'none'].filter(Boolean).length;
  if (kinds > 1) {
    throw new PgpressError('PGP_VALIDATION', 'Filter the feed by one of: author, tag, or meta/lang.', { details: { field: content.kind === 'none' ? 'tag' : content.kind } });
  }
  if (opts.authorId !== undefined) return [authorFeedFirstPage, authorFeedNextPage, [opts.authorId]];
  if (opts.tag !== undefined) return [tagFeedFirstPage, tagFeedNextPage, [opts.tag]];
  if (content.kind === 'meta') return [metaFeedFirstPage, metaFeedNextPage, [content.value]];
  if (content.kind === 'lang') return [langFeedFirstPage, langFeedNextPage, [content.value]];
  return [feedFirstPage, feedNextPage, []];
}

/** Returns a page of published articles, newest first, after `cursor` (from the previous page). */
export async function feedPage(db: Queryable, opts: FeedOptions = {}): Promise<FeedPage> {
  const limit = opts.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new PgpressError('PGP_VALIDATION', 'limit must be between 1 and 100.', { details: { field: 'limit' } });
  const [first, next, filter] = feedStatements(opts);
  // First pages take (limit, filter?); next pages (limit, cursor microseconds, cursor id, filter?).
  const { rows } = opts.cursor
    ? await db.query<FeedRow>(next, [limit, ...decodeCursor(opts.cursor), ...filter], READ)
    : await db.query<FeedRow>(first, [limit, ...filter], READ);
  const last = rows.at(-1);
  return {
    items: rows.map((r) => ({ id: toId(r.id), authorId: toId(r.author_id), title: r.title, slug: r.slug, publishedAt: r.published_at.toISOString() })),
    nextCursor: rows.length === limit && last ? encodeCursor(last.published_us, last.id) : null,
  };
}
