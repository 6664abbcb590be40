// One maintenance pass (`pgpress maintain`): partitions first (new months must exist before
// events arrive), then the analytics views.
import type { Settings } from '../config/settings.ts';
import type { Cluster } from '../db/cluster.ts';
import type { QueryOptions } from '../db/queryable.ts';
import { sql } from '../db/sql.ts';
import { MATVIEWS, refreshMatview } from './matviews.ts';
import { maintainPartitions, policyFromSettings } from './partitions/index.ts';

const inRecovery = sql('maintenance.inRecovery', 'SELECT pg_is_in_recovery() AS r');

// Like the partition work and the refreshes, on the background lane.
const BACKGROUND: QueryOptions = { lane: 'background' };

/** Runs partition maintenance and the matview refreshes; returns human-readable report lines. */
export async function runMaintenance(cluster: Cluster, m: Settings['maintenance']): Promise<string[]> {
  const lines: string[] = [];
  const p = await maintainPartitions(cluster, policyFromSettings(m));
  if (!p.ran) return [`skipped: ${p.reason === 'replica' ? 'this server is a replica' : 'another maintenance run holds the lock'}`];
  for (const t of p.tables) {
    lines.push(`${t.table}: created [${t.created.join(', ')}], retired [${t.retired.join(', ')}], moved ${t.movedFromDefault} row(s) out of the default partition${t.created.length ? ` (default partition locked ${Math.round(t.lockHeldMs)} ms)` : ''}, purged ${t.purgedFromDefault}${t.deferred.length ? `, deferred [${t.deferred.join(', ')}]` : ''}`);
  }
  if ((await cluster.query<{ r: boolean }>(inRecovery, [], BACKGROUND)).rows[0]!.r) return lines;
  for (const v of MATVIEWS) lines.push(`${v}: ${(await refreshMatview(cluster, v)) ? 'refreshed' : 'skipped (nothing new)'}`);
  return lines;
}
