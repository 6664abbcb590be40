// Named SQL for engagement events.
import { sql } from '../../db/sql.ts';

export const insertEvent = sql(
  'events.insert',
  `INSERT INTO article_events (article_id, user_id, kind, read_ms, occurred_at)
   VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()))
   RETURNING id::text`,
);

// A batch in one statement and one round trip: parallel arrays unnested into rows.
export const insertEvents = sql(
  'events.insertBatch',
  `INSERT INTO article_events (article_id, user_id, kind, read_ms, occurred_at)
   SELECT a, u, k, r, coalesce(t, now())
   FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::integer[], $5::timestamptz[]) AS e(a, u, k, r, t)`,
);

// Events of one article in a time window: the bounds prune the scan to the matching partitions.
export const eventCountsInWindow = sql(
  'events.countsInWindow',
  `SELECT kind, count(*)::bigint::text AS n FROM article_events
   WHERE article_id = $1 AND occurred_at >= $2 AND occurred_at < $3
   GROUP BY kind ORDER BY kind`,
);
