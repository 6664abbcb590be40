// WAL position as bytes: its rate is the WAL generated per second.
import { sql } from '../../db/sql.ts';
import { counter, type Collector } from './types.ts';

const query = sql(
  'metrics.walPosition',
  `SELECT pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0')::float8 AS bytes`,
);

/** pg_current_wal_lsn() in bytes (on a replica: the last replayed position). */
export const walCollector: Collector = {
  name: 'wal',
  families: [counter('pgpress_pg_wal_bytes_total', 'WAL position in bytes (pg_current_wal_lsn; on a replica the last replayed); its rate is WAL generated per second.')],
  async collect(db) {
    const r = (await db.query<{ bytes: number | null }>(query)).rows[0];
    return r?.bytes == null ? [] : [{ name: 'pgpress_pg_wal_bytes_total', labels: {}, value: r.bytes }];
  },
};
