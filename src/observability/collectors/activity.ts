// pg_stat_activity: connections by state, backends waiting on locks, the oldest open transaction.
import { sql } from '../../db/sql.ts';
import { gauge, type Collector } from './types.ts';

const byState = sql(
  'metrics.pgStatActivity.states',
  `SELECT state, count(*)::int AS n FROM pg_stat_activity
   WHERE datname = current_database() AND backend_type = 'client backend' AND state IS NOT NULL GROUP BY state`,
);
// The collector's own connection is left out of the transaction age (it is in one right now).
const summary = sql(
  'metrics.pgStatActivity.summary',
  `SELECT (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock')::int AS locks_waiting,
          coalesce((SELECT extract(epoch FROM now() - min(xact_start)) FROM pg_stat_activity
                    WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()), 0)::float8 AS oldest,
          current_setting('max_connections')::int AS max_connections`,
);

/** pg_stat_activity's states as label values (every one always present, 0 when none). */
const STATES: Record<string, string> = {
  active: 'active',
  idle: 'idle',
  'idle in transaction': 'idle_in_transaction',
  'idle in transaction (aborted)': 'idle_in_transaction_aborted',
  'fastpath function call': 'fastpath',
  disabled: 'disabled',
};

/** Connections by state, locks waiting, longest running transaction, max_connections. */
export const activityCollector: Collector = {
  name: 'activity',
  families: [
    gauge('pgpress_pg_connections', 'Client connections to this database by state (pg_stat_activity).', ['state']),
    gauge('pgpress_pg_connections_max', 'The server\'s max_connections.'),
    gauge('pgpress_pg_locks_waiting', 'Backends waiting for a lock.'),
    gauge('pgpress_pg_oldest_transaction_age_seconds', 'Age of the longest-running open transaction on the server (0 when none).'),
  ],
  async collect(db) {
    const counts = new Map(Object.values(STATES).map((s) => [s, 0]));
    for (const r of (await db.query<{ state: string; n: number }>(byState)).rows) {
      const s = STATES[r.state];
      if (s !== undefined) counts.set(s, r.n);
    }
    const s = (await db.query<{ locks_waiting: number; oldest: number; max_connections: number }>(summary)).rows[0]!;
    return [
      ...[...counts].map(([state, value]) => ({ name: 'pgpress_pg_connections', labels: { state }, value })),
      { name: 'pgpress_pg_connections_max', labels: {}, value: s.max_connections },
      { name: 'pgpress_pg_locks_waiting', labels: {}, value: s.locks_waiting },
      { name: 'pgpress_pg_oldest_transaction_age_seconds', labels: {}, value: s.oldest },
    ];
  },
};
