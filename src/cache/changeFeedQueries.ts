// SQL the change feed runs against pgpress_cache_changes (migrations 0043, 0044).
import { sql, type NamedQuery } from '../db/sql.ts';

/** The channel the change-log triggers NOTIFY on (a wake-up only: the log is the truth). */
export const CHANGE_CHANNEL = 'pgpress_cache_changes';

/**
 * One page of the log from the cursor on, with the statement snapshot's xmin and clock.
 * Why xmin: every transaction below it has finished, so the next read from it cannot miss a
 * transaction that commits late with a lower row id; rows at or above it may be read again
 * (the feed skips ids it has delivered). standby: the node is (now) in recovery, where a LISTEN
 * hears nothing and the log only grows by replay: the feed leaves it for the primary.
 * $1 cursor (xid8), $2 after id, $3 page size.
 */
export const readChanges: NamedQuery = sql(
  'pgpress_cache_changes_read',
  `SELECT s.xmin::text AS xmin, s.now, s.standby, c.id::text AS id, c.xid::text AS xid, c.tags
     FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin, now() AS now, pg_is_in_recovery() AS standby) s
     LEFT JOIN LATERAL (
       SELECT id, xid, tags FROM pgpress_cache_changes
        WHERE xid >= $1::xid8 AND id > $2::bigint
        ORDER BY id LIMIT $3
     ) c ON true
    ORDER BY c.id`,
);

/** The cursor a fresh feed starts from: the current snapshot's xmin, and the database clock. */
export const currentCursor: NamedQuery = sql(
  'pgpress_cache_changes_now',
  'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, now() AS now',
);

/**
 * Deletes one batch of rows older than the retention ($1 seconds, $2 batch size). By age alone,
 * not by this feed's cursor: the cursor is a cluster-wide xmin that any open transaction holds
 * back. A live feed reads a row within its poll interval, so only a writing transaction left open
 * longer than the retention can lose its row before it is read (documented limit).
 * SKIP LOCKED: instances pruning at once take different rows, never wait.
 */
export const pruneChanges: NamedQuery = sql(
  'pgpress_cache_changes_prune',
  `DELETE FROM pgpress_cache_changes WHERE id IN (
     SELECT id FROM pgpress_cache_changes
      WHERE at < now() - make_interval(secs => $1)
      ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
);

/**
 * What the feed checks on each connection before trusting it: a standby is refused (its LISTEN
 * would hear nothing), and the primary's timeline (from its current WAL file name) and system
 * identifier say whether this is the history the cursor was read on. A promotion starts a new
 * timeline; a cursor from another timeline (or another cluster) cannot prove it saw everything.
 */
export const nodeHistory: NamedQuery = sql(
  'pgpress_cache_changes_node',
  `SELECT pg_is_in_recovery() AS standby,
          CASE WHEN NOT pg_is_in_recovery()
               THEN ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline,
          (SELECT system_identifier::text FROM pg_control_system()) AS system`,
);
