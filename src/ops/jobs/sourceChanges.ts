// Job: fold the pgpress_source_changes rows of backends that no longer exist into one row per
// source (pid 0). The table grows a row per (source, writing backend) forever otherwise.
import { sql } from '../../db/sql.ts';
import { withMaintenanceLock } from '../lock.ts';
import type { JobDefinition, JobResult } from '../scheduler/types.ts';
import { JOB_LOCK_KEYS } from './keys.ts';

// Folded, not deleted: refreshes compare the per-source SUM with what they last saw (migration
// 0022), so the sum must not change. One statement: a new backend reusing a dead pid and bumping
// its row meanwhile is either moved with its new count (the DELETE re-reads the row it waited
// for) or inserts a fresh row after the DELETE; no change is lost either way.
const fold = sql(
  'jobs.sourceChanges.fold',
  `WITH dead AS (
     DELETE FROM pgpress_source_changes s
     WHERE s.pid <> 0 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = s.pid)
     RETURNING s.source, s.changes),
   per_source AS (SELECT source, sum(changes)::bigint AS changes, count(*)::int AS rows FROM dead GROUP BY source),
   folded AS (
     INSERT INTO pgpress_source_changes AS s (source, pid, changes)
     SELECT source, 0, changes FROM per_source
     ON CONFLICT (source, pid) DO UPDATE SET changes = s.changes + excluded.changes)
   SELECT coalesce(sum(rows), 0)::int AS removed FROM per_source`,
);

/** Folds dead backends' change counters into pid 0, keeping every source's sum. */
export function sourceChangesJob(intervalMs: number): JobDefinition {
  return {
    name: 'source_changes',
    intervalMs,
    async run({ cluster, lockTimeoutMs }): Promise<JobResult> {
      const r = await withMaintenanceLock(cluster, JOB_LOCK_KEYS.sourceChanges, lockTimeoutMs, async (s) => (await s.query<{ removed: number }>(fold)).rows[0]!.removed);
      return r.ran ? { outcome: 'ok', changes: { foldedRows: r.value } } : { outcome: 'skipped', changes: { reason: r.reason } };
    },
  };
}
