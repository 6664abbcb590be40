// The scheduled jobs and the list the scheduler runs with the settings' intervals.
import type { Settings } from '../../config/settings.ts';
import type { JobDefinition } from '../scheduler/types.ts';
import { matviewsJob } from './matviews.ts';
import { partitionsJob } from './partitions.ts';
import { reindexJob } from './reindex.ts';
import { sourceChangesJob } from './sourceChanges.ts';
import { vacuumJob } from './vacuum.ts';
import { idempotencyKeysJob } from './idempotencyKeys.ts';

export { idempotencyKeysJob, matviewsJob, partitionsJob, reindexJob, sourceChangesJob, vacuumJob };
export { indexBloat, bloatMethod, type IndexBloat } from './bloat.ts';

/** The jobs with a non-zero interval in settings, partitions first (new months before events arrive). */
export function defaultJobs(s: Settings): JobDefinition[] {
  const i = s.scheduler.intervalsS;
  const all = [
    partitionsJob(s.maintenance, i.partitions * 1000),
    matviewsJob(s.scheduler.matviewMaxAgeS, i.matviews * 1000),
    vacuumJob({ minDead: s.scheduler.vacuumDeadTuplesMin, deadPct: s.scheduler.vacuumDeadPct }, i.vacuum * 1000),
    reindexJob({ bloatPct: s.scheduler.reindexBloatPct, minBytes: s.scheduler.reindexMinBytes }, i.reindex * 1000),
    sourceChangesJob(i.sourceChanges * 1000),
    idempotencyKeysJob(s.http.idempotencyKeyTtlHours, i.idempotencyKeys * 1000),
  ];
  return all.filter((j) => j.intervalMs > 0);
}
