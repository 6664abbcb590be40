// The scheduler as `serve` and `pgpress scheduler` run it: the settings' jobs, this host and pid
// as the instance name, the process's job metrics. The leader lock follows the primary when the
// owner's URL names several hosts or PATRONI_URLS are set.
import { hostname } from 'node:os';
import type { Settings } from '../../config/settings.ts';
import type { Cluster } from '../../db/cluster.ts';
import { primaryUrlSource, type PrimaryUrlSource } from '../../db/topology.ts';
import { isMultiHost } from '../../db/topologyUrl.ts';
import type { Logger } from '../../observability/logger.ts';
import { jobMetrics } from '../../observability/metrics.ts';
import { defaultJobs } from '../jobs/index.ts';
import { Scheduler } from './scheduler.ts';

/**
 * Where the leader lock connects. url is the primary the caller resolved at start from the owner's
 * URL (MIGRATION_DATABASE_URL, default DATABASE_URL); when that URL names a cluster, each new lock
 * connection resolves the primary again, so a failover moves the lock (and the claims made on its
 * connection) to the promoted node instead of retrying the dead one.
 */
export function leaderUrl(settings: Settings, url: string): string | PrimaryUrlSource {
  const owner = settings.databaseUrl === undefined ? undefined : settings.migrationDatabaseUrl;
  if (owner === undefined || (!isMultiHost(owner) && settings.patroniUrls.length === 0)) return url;
  return primaryUrlSource(owner, settings.patroniUrls);
}

/** Starts a scheduler for the settings' jobs on cluster's background lane (leader lock on its own connection to the primary). */
export function startScheduler(settings: Settings, cluster: Cluster, url: string, logger: Logger): Scheduler {
  const scheduler = new Scheduler({
    url: leaderUrl(settings, url),
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
