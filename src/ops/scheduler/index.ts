// The maintenance scheduler: the public surface.
export { Scheduler, type SchedulerOptions, type RunRecord } from './scheduler.ts';
export { LeaderElection, LEADER_LOCK_KEY, type LeaderOptions } from './leader.ts';
export { startScheduler } from './start.ts';
export { jobStatus, type JobStatus, type JobRun } from './report.ts';
export type { JobDefinition, JobContext, JobResult } from './types.ts';
