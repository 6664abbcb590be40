// Partitioned tables: month partitions attached ahead of the current month, rows left in the default.
import { PARTITIONED_TABLES } from '../../ops/partitions/index.ts';
import { quoteIdent, sql, type NamedQuery } from '../../db/sql.ts';
import { gauge, type Collector, type Sample } from './types.ts';

/** Rows in a default partition are counted up to this many (a full count of a large one is a scan). */
export const DEFAULT_ROWS_CAP = 1_000_000;

// Months are compared in UTC, as maintenance computes them.
const ahead = sql(
  'metrics.partitionsAhead',
  `SELECT count(*)::int AS n FROM pgpress_partition_months($1) AS m WHERE m > date_trunc('month', now() AT TIME ZONE 'UTC')::date`,
);
const defaultRows = new Map<string, NamedQuery>(
  PARTITIONED_TABLES.map((t) => [t, sql(`metrics.defaultRows.${t}`, `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${quoteIdent(`${t}_default`)} LIMIT $1) d`)]),
);

/** Partitions ready ahead and rows in the default partition, per partitioned table. */
export const partitionsCollector: Collector = {
  name: 'partitions',
  // Counting a default partition reads it.
  slow: true,
  families: [
    gauge('pgpress_partitions_ahead', 'Month partitions attached after the current UTC month, per partitioned table (0: next month has none).', ['table']),
    gauge('pgpress_partition_default_rows', `Rows in each partitioned table's default partition (counted up to ${DEFAULT_ROWS_CAP}).`, ['table']),
  ],
  async collect(db) {
    const out: Sample[] = [];
    for (const table of PARTITIONED_TABLES) {
      out.push({ name: 'pgpress_partitions_ahead', labels: { table }, value: (await db.query<{ n: number }>(ahead, [table])).rows[0]!.n });
      out.push({ name: 'pgpress_partition_default_rows', labels: { table }, value: (await db.query<{ n: number }>(defaultRows.get(table)!, [DEFAULT_ROWS_CAP])).rows[0]!.n });
    }
    return out;
  },
};
