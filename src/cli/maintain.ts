// `pgpress maintain`: partition maintenance and matview refresh, once.
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { Cluster } from '../db/cluster.ts';
import { runMaintenance } from '../ops/maintenance.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds the maintain command to the program. */
export function maintainCommand(program: Command, settings: () => Settings): void {
  program
    .command('maintain')
    .description('create month partitions ahead, move rows out of default partitions, retire old months, refresh analytics views')
    .action(async () => {
      const s = settings();
      const { url, release } = await databaseUrlFor(s, 'owner');
      const cluster = new Cluster({ url, max: 2, statementTimeoutMs: 0 });
      try {
        const report = await runMaintenance(cluster, s.maintenance);
        for (const line of report) console.log(line);
      } finally {
        await cluster.close();
        await release();
      }
    });
}
