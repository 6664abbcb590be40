// Named SQL for engagement events.
import { sql } from '../../db/sql.ts';

// An event on an article its sender may not see (a draft or archived article of someone else's)
// is written against article 0, which never exists (ids start at 1): the foreign key refuses it
// exactly as it refuses a missing article, so the answer cannot tell the two apart, and a batch
// stays one statement, all or none. $6: the sender sees every article (editor, admin).
export const insertEvent = sql(
  'events.insert',
  `INSERT INTO article_events (article_id, user_id, kind, read_ms, occurred_at)
   SELECT CASE WHEN a.status = 'published' OR a.author_id = $2::bigint OR $6::boolean THEN $1::bigint ELSE 0 END,
          $2::bigint, $3, $4, coalesce($5::timestamptz, now())
     FROM (SELECT) AS one LEFT JOIN articles a ON a.id = $1::bigint
   RETURNING id::text`,
);

// A batch in one statement and one round trip: parallel arrays unnested into rows.
export const insertEvents = sql(
  'events.insertBatch',
  `INSERT INTO article_events (article_id, user_id, kind, read_ms, occurred_at)
   SELECT CASE WHEN a.status = 'published' OR a.author_id = e.u OR $6::boolean THEN e.a ELSE 0 END,
          e.u, e.k, e.r, coalesce(e.t, now())
     FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::integer[], $5::timestamptz[]) AS e(a, u, k, r, t)
     LEFT JOIN articles a ON a.id = e.a`,
);

// Events of one article in a time window: the bounds prune the scan to the matching partitions.
export const eventCountsInWindow = sql(
  'events.countsInWindow',
  `SELECT kind, count(*)::bigint::text AS n FROM article_events
   WHERE article_id = $1 AND occurred_at >= $2 AND occurred_at < $3
   GROUP BY kind ORDER BY kind`,
);
