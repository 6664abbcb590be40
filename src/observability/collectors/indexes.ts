// pg_stat_user_indexes: scans per index (an index at 0 is unused).
import { sql } from '../../db/sql.ts';
import { TABLE_LABEL_SQL, counter, type Collector } from './types.ts';

const query = sql('metrics.pgStatUserIndexes', `SELECT ${TABLE_LABEL_SQL} AS t, indexrelname AS i, idx_scan::float8 AS scans FROM pg_stat_user_indexes`);

/** Index scans per index. */
export const indexesCollector: Collector = {
  name: 'indexes',
  families: [counter('pgpress_pg_index_scans_total', 'Scans started on each index since the statistics were reset (0: an unused index).', ['table', 'index'])],
  async collect(db) {
    const { rows } = await db.query<{ t: string; i: string; scans: number }>(query);
    return rows.map((r) => ({ name: 'pgpress_pg_index_scans_total', labels: { table: r.t, index: r.i }, value: r.scans }));
  },
};
