// Named SQL for the public feed: published articles newest first, keyset-paginated on
// (published_at, id) so page N costs the same as page 1. Both queries are served by the
// covering partial index articles_feed_idx as an index-only scan (migration 0013).
import { sql } from '../../db/sql.ts';

const CARD = 'id, author_id, title, slug, published_at, (extract(epoch FROM published_at) * 1000000)::bigint::text AS published_us';

export const feedFirstPage = sql(
  'feed.first',
  `SELECT ${CARD} FROM articles WHERE status = 'published'
   ORDER BY published_at DESC, id DESC LIMIT $1`,
);

// The cursor carries microseconds since the epoch: a JS Date would drop PostgreSQL's microseconds
// and the keyset would skip or repeat rows.
export const feedNextPage = sql(
  'feed.next',
  `SELECT ${CARD} FROM articles
   WHERE status = 'published' AND (published_at, id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3)
   ORDER BY published_at DESC, id DESC LIMIT $1`,
);
