// Job: purge Idempotency-Key rows older than IDEMPOTENCY_KEY_TTL_HOURS (src/http/idempotency/), in
// batches of short transactions, oldest first; a key is then free for a new request.
import { sql } from '../../db/sql.ts';
import { withMaintenanceLock } from '../lock.ts';
import type { JobDefinition, JobResult } from '../scheduler/types.ts';
import { JOB_LOCK_KEYS } from './keys.ts';

/** Rows per DELETE: each batch is its own statement (autocommit), so no long lock or transaction. */
export const PURGE_BATCH_ROWS = 1_000;
/** Batches per run at most: a backlog is worked off over several runs, never in one long one. */
const MAX_BATCHES = 100;

// SKIP LOCKED: a row a write is taking over (the claim's ON CONFLICT DO UPDATE) is left to it.
const purge = sql(
  'jobs.idempotencyKeys.purge',
  `WITH doomed AS (
     SELECT scope, key FROM pgpress_idempotency_keys
      WHERE created_at < now() - make_interval(hours => $1::int)
      ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
   DELETE FROM pgpress_idempotency_keys k USING doomed d WHERE k.scope = d.scope AND k.key = d.key`,
);

/** Deletes expired idempotency keys, PURGE_BATCH_ROWS per statement. */
export function idempotencyKeysJob(ttlHours: number, intervalMs: number, batchRows = PURGE_BATCH_ROWS): JobDefinition {
  return {
    name: 'idempotency_keys',
    intervalMs,
    async run({ cluster, lockTimeoutMs }): Promise<JobResult> {
      const r = await withMaintenanceLock(cluster, JOB_LOCK_KEYS.idempotencyKeys, lockTimeoutMs, async (s) => {
        let deleted = 0;
        for (let batch = 0; batch < MAX_BATCHES; batch++) {
          const n = (await s.query(purge, [ttlHours, batchRows])).rowCount ?? 0;
          deleted += n;
          if (n < batchRows) break;
        }
        return deleted;
      });
      return r.ran ? { outcome: 'ok', changes: { deletedKeys: r.value } } : { outcome: 'skipped', changes: { reason: r.reason } };
    },
  };
}
