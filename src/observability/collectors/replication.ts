// pg_stat_replication (on the primary): each streaming replica's replay lag in seconds and bytes.
import { sql } from '../../db/sql.ts';
import { gauge, type Collector, type Sample } from './types.ts';

// A replica is named by its slot, else its application_name (unless the default 'walreceiver',
// which every replica shares), else its address. replay_lag is NULL once a replica has caught
// up and no WAL is flowing: that is a lag of 0, not an unknown.
const query = sql(
  'metrics.pgStatReplication',
  `SELECT coalesce(s.slot_name, nullif(nullif(r.application_name, ''), 'walreceiver'), host(r.client_addr) || ':' || r.client_port, r.pid::text) AS replica,
          CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::float8 END AS lag_bytes,
          extract(epoch FROM r.replay_lag)::float8 AS lag_seconds
   FROM pg_stat_replication r LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid`,
);

/** Replicas connected, and each one's replay lag. */
export const replicationCollector: Collector = {
  name: 'replication',
  families: [
    gauge('pgpress_pg_replicas_connected', 'Streaming replicas connected to this server (pg_stat_replication rows).'),
    gauge('pgpress_pg_replication_lag_seconds', 'Replay lag of each streaming replica as the primary sees it (0 once caught up).', ['replica']),
    gauge('pgpress_pg_replication_lag_bytes', 'WAL bytes each streaming replica has yet to replay.', ['replica']),
  ],
  async collect(db) {
    const { rows } = await db.query<{ replica: string; lag_bytes: number | null; lag_seconds: number | null }>(query);
    const out: Sample[] = [{ name: 'pgpress_pg_replicas_connected', labels: {}, value: rows.length }];
    for (const r of rows) {
      if (r.lag_bytes !== null) out.push({ name: 'pgpress_pg_replication_lag_bytes', labels: { replica: r.replica }, value: Math.max(0, r.lag_bytes) });
      const seconds = r.lag_seconds ?? (r.lag_bytes === 0 ? 0 : null);
      if (seconds !== null) out.push({ name: 'pgpress_pg_replication_lag_seconds', labels: { replica: r.replica }, value: seconds });
    }
    return out;
  },
};
