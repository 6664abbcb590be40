// Named SQL for the public feed: published articles newest first, keyset-paginated on
// (published_at, id) so page N costs the same as page 1. The unfiltered feed is served by the
// covering partial index articles_feed_idx as an index-only scan (migration 0013); an author's
// feed by articles_author_published_idx (0014); a tag's feed by articles_tags_idx (0012); a
// metadata feed by the GIN articles_metadata_idx (0015); a language's feed by
// articles_lang_feed_idx (0038: the language, then the feed's order, so custom and generic plans
// alike walk only that language's rows in order).
// Each filter is its own statement: one generic plan with optional filters would fit none of them.
// FROM articles_published (migration 0073): row-level security on articles would keep the
// non-leakproof @> of the tag and metadata feeds off their indexes.
import { sql } from '../../db/sql.ts';

const CARD = 'id, author_id, title, slug, published_at, (extract(epoch FROM published_at) * 1000000)::bigint::text AS published_us';
// The cursor carries microseconds since the epoch: a JS Date would drop PostgreSQL's microseconds
// and the keyset would skip or repeat rows.
const AFTER = `(published_at, id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3)`;
const ORDER = 'ORDER BY published_at DESC, id DESC LIMIT $1';

export const feedFirstPage = sql('feed.first', `SELECT ${CARD} FROM articles_published WHERE status = 'published' ${ORDER}`);
export const feedNextPage = sql('feed.next', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND ${AFTER} ${ORDER}`);

export const authorFeedFirstPage = sql('feed.author.first', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND author_id = $2 ${ORDER}`);
export const authorFeedNextPage = sql('feed.author.next', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND author_id = $4 AND ${AFTER} ${ORDER}`);

export const tagFeedFirstPage = sql('feed.tag.first', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND tags @> ARRAY[$2::text] ${ORDER}`);
export const tagFeedNextPage = sql('feed.tag.next', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND tags @> ARRAY[$4::text] AND ${AFTER} ${ORDER}`);

export const metaFeedFirstPage = sql('feed.meta.first', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND metadata @> $2::jsonb ${ORDER}`);
export const metaFeedNextPage = sql('feed.meta.next', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND metadata @> $4::jsonb AND ${AFTER} ${ORDER}`);

// `metadata ->> 'lang'` spelled as in the index expression (0016), so the planner can match it.
export const langFeedFirstPage = sql('feed.lang.first', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND (metadata ->> 'lang') = $2 ${ORDER}`);
export const langFeedNextPage = sql('feed.lang.next', `SELECT ${CARD} FROM articles_published WHERE status = 'published' AND (metadata ->> 'lang') = $4 AND ${AFTER} ${ORDER}`);
