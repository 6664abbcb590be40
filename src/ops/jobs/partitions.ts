// Job: partition premake and retention (the partition half of `pgpress maintain`).
import type { Settings } from '../../config/settings.ts';
import { maintainPartitions, policyFromSettings } from '../partitions/index.ts';
import type { JobDefinition, JobResult } from '../scheduler/types.ts';

/** Creates months ahead, moves waiting rows out of default partitions, retires old months. */
export function partitionsJob(m: Settings['maintenance'], intervalMs: number): JobDefinition {
  return {
    name: 'partitions',
    intervalMs,
    async run({ cluster, lockTimeoutMs }): Promise<JobResult> {
      const r = await maintainPartitions(cluster, { ...policyFromSettings(m), lockTimeoutMs });
      if (!r.ran) return { outcome: 'skipped', changes: { reason: r.reason } };
      const tables = r.tables.map((t) => ({ table: t.table, created: t.created, retired: t.retired, moved: t.movedFromDefault, purged: t.purgedFromDefault, deferred: t.deferred }));
      return { outcome: 'ok', changes: { tables } };
    },
  };
}
