// Advisory lock keys of the scheduled jobs that have no lock of their own (partition maintenance
// uses LOCK_KEYS.partitions, matview refresh a per-view transaction lock).
export const JOB_LOCK_KEYS = {
  vacuum: 7_283_901_310n,
  reindex: 7_283_901_311n,
  sourceChanges: 7_283_901_312n,
  matviews: 7_283_901_313n,
  idempotencyKeys: 7_283_901_314n,
} as const;
