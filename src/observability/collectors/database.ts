// pg_stat_database for the connected database: transactions, buffer hits, deadlocks, temp bytes.
import { sql } from '../../db/sql.ts';
import { counter, gauge, type Collector, type Sample } from './types.ts';

const query = sql(
  'metrics.pgStatDatabase',
  `SELECT xact_commit::float8 AS commits, xact_rollback::float8 AS rollbacks, blks_hit::float8 AS hit,
          blks_read::float8 AS read, deadlocks::float8 AS deadlocks, temp_bytes::float8 AS temp_bytes
   FROM pg_stat_database WHERE datname = current_database()`,
);

/** Transactions, shared-buffer hit ratio, deadlocks and temp bytes of this database. */
export const databaseCollector: Collector = {
  name: 'database',
  families: [
    counter('pgpress_pg_transactions_total', 'Transactions of this database by result (commit, rollback), from pg_stat_database.', ['result']),
    counter('pgpress_pg_blocks_total', 'Block reads of this database by source (hit: shared buffers, read: outside them).', ['source']),
    gauge('pgpress_pg_buffer_hit_ratio', 'Share (0-1) of block reads served from shared buffers since the statistics were reset.'),
    counter('pgpress_pg_deadlocks_total', 'Deadlocks detected in this database.'),
    counter('pgpress_pg_temp_bytes_total', 'Bytes written to temporary files by queries of this database.'),
  ],
  async collect(db): Promise<Sample[]> {
    const r = (await db.query<{ commits: number; rollbacks: number; hit: number; read: number; deadlocks: number; temp_bytes: number }>(query)).rows[0];
    if (!r) return [];
    const blocks = r.hit + r.read;
    return [
      { name: 'pgpress_pg_transactions_total', labels: { result: 'commit' }, value: r.commits },
      { name: 'pgpress_pg_transactions_total', labels: { result: 'rollback' }, value: r.rollbacks },
      { name: 'pgpress_pg_blocks_total', labels: { source: 'hit' }, value: r.hit },
      { name: 'pgpress_pg_blocks_total', labels: { source: 'read' }, value: r.read },
      // No reads yet: nothing missed the cache.
      { name: 'pgpress_pg_buffer_hit_ratio', labels: {}, value: blocks === 0 ? 1 : r.hit / blocks },
      { name: 'pgpress_pg_deadlocks_total', labels: {}, value: r.deadlocks },
      { name: 'pgpress_pg_temp_bytes_total', labels: {}, value: r.temp_bytes },
    ];
  },
};
