// `pgpress jobs`: each scheduled job's interval, its latest runs and its failures in the last 7 days.
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { Cluster } from '../db/cluster.ts';
import { defaultJobs } from '../ops/jobs/index.ts';
import { jobStatus } from '../ops/scheduler/index.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds the jobs command to the program. */
export function jobsCommand(program: Command, settings: () => Settings): void {
  program
    .command('jobs')
    .description('list the maintenance schedule, the last runs of each job and recent failures')
    .option('--runs <n>', 'runs shown per job', '3')
    .option('--json', 'print JSON')
    .action(async (opts: { runs: string; json?: boolean }) => {
      const s = settings();
      const { url, release } = await databaseUrlFor(s, 'owner');
      const cluster = new Cluster({ url, max: 1 });
      try {
        const status = await jobStatus(cluster, defaultJobs(s), Math.max(1, Number(opts.runs) || 3));
        if (opts.json) {
          console.log(JSON.stringify(status, null, 2));
          return;
        }
        console.log(`scheduler: ${s.scheduler.enabled ? 'enabled' : 'disabled (SCHEDULER_ENABLED=false)'}`);
        for (const j of status) {
          const every = j.intervalSeconds === null ? 'not scheduled here' : `every ${j.intervalSeconds} s`;
          console.log(`${j.job}: ${every}, last success ${j.lastSuccessAt ?? 'never'}, ${j.failures7d} failure(s) in 7 days`);
          for (const r of j.lastRuns) {
            console.log(`  ${r.startedAt} ${r.outcome}${r.finishedAt ? ` in ${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s` : ''} on ${r.instance}${r.error ? `: ${r.error}` : ''} ${JSON.stringify(r.changes)}`);
          }
        }
      } finally {
        await cluster.close();
        await release();
      }
    });
}
