// `pgpress scheduler`: the maintenance scheduler alone (no HTTP), until SIGINT or SIGTERM.
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { Cluster } from '../db/cluster.ts';
import { patroniClusterOptions } from '../db/topology.ts';
import { createLogger } from '../observability/logger.ts';
import { startScheduler } from '../ops/scheduler/index.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds the scheduler command to the program. */
export function schedulerCommand(program: Command, settings: () => Settings): void {
  program
    .command('scheduler')
    .description('run the maintenance jobs on their schedule (one leader among all instances) without the HTTP API')
    .action(async () => {
      const s = settings();
      const logger = createLogger(s.logLevel);
      const { url, release } = await databaseUrlFor(s, 'owner');
      // The jobs' pool on the owner's URL as given (several hosts, or PATRONI_URLS): it follows the
      // primary after a failover, as serve's does; url is the primary resolved now (or the embedded server).
      const given = s.databaseUrl === undefined ? undefined : s.migrationDatabaseUrl;
      const nodes = await patroniClusterOptions(s.patroniUrls);
      const cluster = new Cluster({ url: given ?? url, ...s.pool, ...nodes });
      const scheduler = startScheduler(s, cluster, url, logger);
      logger.info('scheduler started');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await scheduler.stop();
      await cluster.close();
      await release();
      logger.info('scheduler stopped');
    });
}
