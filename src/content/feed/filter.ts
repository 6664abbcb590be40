// Content filters shared by the feed and search: metadata containment (`metadata @> $n::jsonb`,
// GIN articles_metadata_idx) and language (`metadata->>'lang' = $n`, B-tree articles_lang_feed_idx).
import { PgpressError } from '../../errors/index.ts';

/** Narrows a feed or a search: articles whose metadata contains `meta`, or whose metadata.lang is `lang`. */
export interface ContentFilter {
  /** A JSON object the article's metadata must contain (nested objects and arrays included). */
  meta?: Record<string, unknown>;
  /** A language tag such as `en` or `pt-BR`, compared with metadata.lang. */
  lang?: string;
}

/** The statement a filter selects and its one bound value. */
export type ResolvedFilter = { kind: 'meta'; value: string } | { kind: 'lang'; value: string } | { kind: 'none' };

/** Longest accepted `meta`, as JSON text: a filter names a few keys, not a document. */
export const MAX_META_FILTER_CHARS = 1000;

/** A BCP 47-like language tag: a 2–3 letter primary subtag and up to three more. */
const LANG_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$/;

function invalid(field: 'meta' | 'lang', message: string): PgpressError {
  return new PgpressError('PGP_VALIDATION', message, { details: { field } });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses the `meta` query parameter: JSON text that must be an object. */
export function parseMetaFilter(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw invalid('meta', 'meta is not valid JSON: give a JSON object such as {"series":"x"}.');
  }
  if (!isPlainObject(v)) throw invalid('meta', 'meta must be a JSON object such as {"series":"x"}.');
  return v;
}

/** Checks a filter and picks its statement. With both, the language joins the containment:
 *  for a language tag (always a JSON string), metadata->>'lang' = l holds exactly when
 *  metadata @> {"lang": l} does, and one GIN lookup serves both keys. */
export function resolveFilter(f: ContentFilter): ResolvedFilter {
  if (f.lang !== undefined && (typeof f.lang !== 'string' || !LANG_TAG.test(f.lang))) {
    throw invalid('lang', 'lang must be a language tag such as en or pt-BR.');
  }
  if (f.meta === undefined) return f.lang === undefined ? { kind: 'none' } : { kind: 'lang', value: f.lang };
  if (!isPlainObject(f.meta)) throw invalid('meta', 'meta must be a JSON object such as {"series":"x"}.');
  // An empty object contains nothing: it would match every row through a full GIN scan.
  if (Object.keys(f.meta).length === 0) throw invalid('meta', 'meta must name at least one key.');
  if (f.lang !== undefined && 'lang' in f.meta && f.meta.lang !== f.lang) {
    throw invalid('lang', `lang=${f.lang} contradicts meta's "lang"; give the language once.`);
  }
  const value = JSON.stringify(f.lang === undefined ? f.meta : { ...f.meta, lang: f.lang });
  if (value.length > MAX_META_FILTER_CHARS) throw invalid('meta', `meta must have at most ${MAX_META_FILTER_CHARS} characters as JSON.`);
  return { kind: 'meta', value };
}
