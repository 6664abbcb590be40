// Named SQL for partition maintenance; the DDL itself lives in SQL functions (migration 0017)
// so month bounds travel as bind parameters.
import { quoteIdent, sql, type NamedQuery } from '../../db/sql.ts';

/** The tables pgpress partitions by month (each has a <name>_default partition). */
export const PARTITIONED_TABLES = ['article_events', 'audit_log'] as const;
/** One of the month-partitioned tables. */
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

export const attachedMonths = sql('partitions.months', 'SELECT m::text AS month FROM pgpress_partition_months($1) AS m');
// The online move of months out of a default partition (migration 0030; steps in move.ts).
export const movePrepare = sql('partitions.move.prepare', 'SELECT pgpress_partition_move_prepare($1, $2::date[])');
export const moveCopy = sql('partitions.move.copy', 'SELECT pgpress_partition_move_copy($1, $2::date[], $3, $4)::text AS last_id');
export const moveAddKeys = sql('partitions.move.addKeys', 'SELECT pgpress_partition_move_add_keys($1, $2::date[])');
export const moveReconcile = sql('partitions.move.reconcile', 'SELECT pgpress_partition_move_reconcile($1, $2::date[])::text AS delta');
export const moveValidate = sql('partitions.move.validate', 'SELECT pgpress_partition_move_validate($1, $2::date[])');
export const moveCount = sql('partitions.move.count', 'SELECT pgpress_partition_move_count($1, $2::date[])::text AS n');
export const moveFinish = sql('partitions.move.finish', 'SELECT pgpress_partition_move_finish($1, $2::date[])::text AS delta');
export const moveAbandon = sql('partitions.move.abandon', 'SELECT pgpress_partition_move_abandon($1, $2::date[])');
export const retireMonth = sql('partitions.retire', 'SELECT pgpress_partition_retire($1, $2::date, $3) AS retired');
export const bumpSource = sql(
  'partitions.bumpSource',
  `INSERT INTO pgpress_source_changes AS s (source, pid, changes) VALUES ($1, pg_backend_pid(), 1)
   ON CONFLICT (source, pid) DO UPDATE SET changes = s.changes + 1`,
);

/** The UTC months that have rows waiting in a table's default partition. */
export function defaultMonths(table: PartitionedTable): NamedQuery {
  return sql(
    `partitions.defaultMonths.${table}`,
    `SELECT DISTINCT to_char(date_trunc('month', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS month
     FROM ${quoteIdent(`${table}_default`)} ORDER BY 1`,
  );
}

/** Deletes up to $2 rows older than $1 from a default partition (retention for stragglers); one
 *  result row per row deleted. Audit entries go through pgpress_audit_purge_default (migration
 *  0087), which records the removal in the audit chain first. */
export function purgeDefaultBefore(table: PartitionedTable): NamedQuery {
  if (table === 'audit_log') return sql('partitions.purgeDefault.audit_log', 'SELECT d AS id FROM pgpress_audit_purge_default($1::timestamptz, $2) AS d');
  const d = quoteIdent(`${table}_default`);
  return sql(
    `partitions.purgeDefault.${table}`,
    `DELETE FROM ${d} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${d} WHERE occurred_at < $1::timestamptz LIMIT $2))`,
  );
}

/** The locks of a move's final transaction, parent first as ATTACH takes them. The parent in
 *  SHARE ROW EXCLUSIVE: reads go on, writes wait for the commit (a row routed to the default
 *  partition before the attach would fail the default's new bound after it, 23514); then the
 *  default partition in ACCESS EXCLUSIVE. */
export function lockForMove(table: PartitionedTable): NamedQuery[] {
  return [
    sql(`partitions.move.lockParent.${table}`, `LOCK TABLE ${quoteIdent(table)} IN SHARE ROW EXCLUSIVE MODE`),
    sql(`partitions.move.lockDefault.${table}`, `LOCK TABLE ${quoteIdent(`${table}_default`)} IN ACCESS EXCLUSIVE MODE`),
  ];
}
