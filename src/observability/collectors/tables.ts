// pg_stat_user_tables: live and dead tuples, when each table was last vacuumed and analysed.
import { sql } from '../../db/sql.ts';
import { TABLE_LABEL_SQL, gauge, type Collector, type Sample } from './types.ts';

const query = sql(
  'metrics.pgStatUserTables',
  `SELECT ${TABLE_LABEL_SQL} AS t, n_live_tup::float8 AS live, n_dead_tup::float8 AS dead,
          extract(epoch FROM last_vacuum)::float8 AS vacuum, extract(epoch FROM last_autovacuum)::float8 AS autovacuum,
          extract(epoch FROM last_analyze)::float8 AS analyze, extract(epoch FROM last_autoanalyze)::float8 AS autoanalyze
   FROM pg_stat_user_tables`,
);

const KINDS = ['vacuum', 'autovacuum', 'analyze', 'autoanalyze'] as const;
type Row = { t: string; live: number; dead: number } & Record<(typeof KINDS)[number], number | null>;

/** Live and dead tuples and the last (auto)vacuum/(auto)analyze per table. */
export const tablesCollector: Collector = {
  name: 'tables',
  families: [
    gauge('pgpress_pg_table_live_tuples', 'Estimated live rows per table (pg_stat_user_tables).', ['table']),
    gauge('pgpress_pg_table_dead_tuples', 'Estimated dead rows per table: bloat waiting for vacuum.', ['table']),
    gauge('pgpress_pg_table_last_maintenance_timestamp_seconds', 'Unix time of the last vacuum, autovacuum, analyze and autoanalyze per table (absent: never).', ['table', 'kind']),
  ],
  async collect(db) {
    const out: Sample[] = [];
    for (const r of (await db.query<Row>(query)).rows) {
      out.push({ name: 'pgpress_pg_table_live_tuples', labels: { table: r.t }, value: r.live });
      out.push({ name: 'pgpress_pg_table_dead_tuples', labels: { table: r.t }, value: r.dead });
      for (const kind of KINDS) {
        const at = r[kind];
        if (at !== null) out.push({ name: 'pgpress_pg_table_last_maintenance_timestamp_seconds', labels: { table: r.t, kind }, value: at });
      }
    }
    return out;
  },
};
