// The scheduler as `serve` and `pgpress scheduler` run it: the settings' jobs, this host and pid
// as the instance name, the process's job metrics.
import { hostname } from 'node:os';
import type { Settings } from '../../config/settings.ts';
import type { Cluster } from '../../db/cluster.ts';
import type { Logger } from '../../observability/logger.ts';
import { jobMetrics } from '../../observability/metrics.ts';
import { defaultJobs } from '../jobs/index.ts';
import { Scheduler } from './scheduler.ts';

/** Starts a scheduler for the settings' jobs on cluster's background lane (leader lock on its own connection to url). */
export function startScheduler(settings: Settings, cluster: Cluster, url: string, logger: Logger): Scheduler {
  const scheduler = new Scheduler({
    url,
    cluster,
    jobs: defaultJobs(settings),
    pollMs: settings.scheduler.pollMs,
    lockTimeoutMs: settings.maintenance.lockTimeoutMs,
    instance: `${hostname()}:${process.pid}`,
    metrics: jobMetrics(),
    log: (level, msg, fields) => logger[level]({ component: 'scheduler', ...fields }, msg),
  });
  scheduler.start();
  return scheduler;
}
