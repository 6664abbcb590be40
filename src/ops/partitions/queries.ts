// Named SQL for partition maintenance; the DDL itself lives in SQL functions (migration 0017)
// so month bounds travel as bind parameters.
import { quoteIdent, sql, type NamedQuery } from '../../db/sql.ts';

/** The tables pgpress partitions by month (each has a <name>_default partition). */
export const PARTITIONED_TABLES = ['article_events', 'audit_log'] as const;
/** One of the month-partitioned tables. */
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

export const attachedMonths = sql('partitions.months', 'SELECT m::text AS month FROM pgpress_partition_months($1) AS m');
export const copyBatch = sql('partitions.copyBatch', 'SELECT pgpress_partition_copy_batch($1, $2::date, $3, $4)::text AS last_id');
export const attachMonth = sql('partitions.attach', 'SELECT pgpress_partition_attach($1, $2::date)::bigint AS moved');
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

/** Deletes up to $2 rows older than $1 from a default partition (retention for stragglers). */
export function purgeDefaultBefore(table: PartitionedTable): NamedQuery {
  const d = quoteIdent(`${table}_default`);
  return sql(
    `partitions.purgeDefault.${table}`,
    `DELETE FROM ${d} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${d} WHERE occurred_at < $1::timestamptz LIMIT $2))`,
  );
}
