// Job: refresh each analytics view whose sources changed, or which is older than its bound.
import { withMaintenanceLock } from '../lock.ts';
import { MATVIEWS, refreshMatview } from '../matviews.ts';
import type { JobDefinition, JobResult } from '../scheduler/types.ts';
import { JOB_LOCK_KEYS } from './keys.ts';

/** Refreshes changed or too-old views CONCURRENTLY (pgpress_refresh_matview skips the others). */
export function matviewsJob(maxAgeSeconds: number, intervalMs: number): JobDefinition {
  return {
    name: 'matviews',
    intervalMs,
    async run({ cluster, lockTimeoutMs }): Promise<JobResult> {
      // On the lock's session: lock_timeout bounds the wait for REFRESH's EXCLUSIVE lock.
      const r = await withMaintenanceLock(cluster, JOB_LOCK_KEYS.matviews, lockTimeoutMs, async (s) => {
        const refreshed: string[] = [];
        const skipped: string[] = [];
        for (const v of MATVIEWS) ((await refreshMatview(s, v, { maxAgeSeconds })) ? refreshed : skipped).push(v);
        return { refreshed, skipped };
      });
      return r.ran ? { outcome: 'ok', changes: r.value } : { outcome: 'skipped', changes: { reason: r.reason } };
    },
  };
}
