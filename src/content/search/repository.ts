// Search: ranked full-text hits with highlighted snippets, and typo-tolerant title lookup.
import type { Queryable } from '../../db/cluster.ts';
import { PgpressError } from '../../errors/index.ts';
import { TIMESTAMPTZ_AS_TEXT, isoTimestamp } from '../../db/timestampText.ts';
import { toId } from '../ids.ts';
import { resolveFilter, type ContentFilter } from '../feed/filter.ts';
import { searchRanked, searchRankedWord, similarTitles } from './queries.ts';
import { escapeHtml, wordSnippet } from './wordSnippet.ts';

/** Idempotent reads: retried on connection loss, served by a replica when one is fresh enough. */
const READ = { read: true } as const;

/** One search hit; the snippet is HTML: the article's text escaped, its matches in <mark>…</mark>. */
export interface SearchHit {
  id: number;
  title: string;
  slug: string;
  publishedAt: string | null;
  rank: number;
  snippet: string;
}

/** A title that looks like what was typed. */
export interface TitleMatch {
  id: number;
  title: string;
  slug: string;
  score: number;
}

function checkInput(text: string, limit: number): void {
  if (text.trim().length === 0 || text.length > 500) throw new PgpressError('PGP_VALIDATION', 'The search text must have 1 to 500 characters.', { details: { field: 'q' } });
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new PgpressError('PGP_VALIDATION', 'limit must be between 1 and 100.', { details: { field: 'limit' } });
}

/** ts_headline's output (matches between U+0001 and U+0002) as safe HTML with <mark> tags. */
export function snippetHtml(raw: string): string {
  return escapeHtml(raw).replaceAll('\u0001', '<mark>').replaceAll('\u0002', '</mark>');
}

/** search.ranked and search.ranked.word with published_at as text: each hit's ISO string is made from it without a Date. */
const searchRankedQuery = { ...searchRanked, types: TIMESTAMPTZ_AS_TEXT };
const searchRankedWordQuery = { ...searchRankedWord, types: TIMESTAMPTZ_AS_TEXT };

/** A search of one word: its snippets are made here (wordSnippet.ts), not by ts_headline. */
const ONE_WORD = /^\s*[A-Za-z]+\s*$/;

/** A hit's publishedAt from the column as text (this query's parsers) or as a Date (another path's). */
function publishedAt(v: string | Date | null): string | null {
  return v === null ? null : typeof v === 'string' ? isoTimestamp(v) : v.toISOString();
}

/** Deepest offset a search page may start at: ranking deeper pages costs more than they are worth. */
export const MAX_SEARCH_OFFSET = 1000;

/** Full-text search over published articles, best first; `offset` hits are skipped (pagination);
 *  `filter` keeps the articles whose metadata contains `meta` and/or whose metadata.lang is `lang`. */
export async function search(db: Queryable, text: string, limit = 10, offset = 0, filter: ContentFilter = {}): Promise<SearchHit[]> {
  checkInput(text, limit);
  const content = resolveFilter(filter);
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_SEARCH_OFFSET) {
    throw new PgpressError('PGP_VALIDATION', `offset must be between 0 and ${MAX_SEARCH_OFFSET}.`, { details: { field: 'offset' } });
  }
  const params = [text, limit, offset, content.kind === 'meta' ? content.value : null, content.kind === 'lang' ? content.value : null];
  type Row = { id: string; title: string; slug: string; published_at: string | Date | null; rank: number };
  const hit = (r: Row, snippet: string): SearchHit => ({ id: toId(r.id), title: r.title, slug: r.slug, publishedAt: publishedAt(r.published_at), rank: r.rank, snippet });
  if (ONE_WORD.test(text)) {
    const { rows } = await db.query<Row & { body: string; lexeme: string; cut: boolean }>(searchRankedWordQuery, params, READ);
    // The lexeme as tsquery prints it, 'queri': letters only for a word of letters.
    return rows.map((r) => hit(r, wordSnippet(r.body, /^'([a-z]+)'$/.exec(r.lexeme)?.[1] ?? '', r.cut)));
  }
  const { rows } = await db.query<Row & { snippet: string }>(searchRankedQuery, params, READ);
  return rows.map((r) => hit(r, snippetHtml(r.snippet)));
}

/** Published articles whose title is similar to `text` (tolerates typos), most similar first. */
export async function findSimilarTitles(db: Queryable, text: string, limit = 10): Promise<TitleMatch[]> {
  checkInput(text, limit);
  const { rows } = await db.query<{ id: string; title: string; slug: string; score: number }>(similarTitles, [text, limit], READ);
  return rows.map((r) => ({ id: toId(r.id), title: r.title, slug: r.slug, score: r.score }));
}
