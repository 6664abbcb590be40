// `pgpress migrate-events --source TABLE`: online copy of an unpartitioned events table into article_events.
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { Cluster } from '../db/cluster.ts';
import { PgpressError } from '../errors/index.ts';
import { migrateEventsTable } from '../ops/eventsMigration.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds the migrate-events command to the program. */
export function migrateEventsCommand(program: Command, settings: () => Settings): void {
  program
    .command('migrate-events')
    .description('copy an unpartitioned events table into article_events in resumable batches, then validate per month')
    .requiredOption('--source <table>', 'the unpartitioned table to copy')
    .option('--batch <rows>', 'rows per batch', '5000')
    .action(async (opts: { source: string; batch: string }) => {
      const batchRows = Number(opts.batch);
      if (!Number.isInteger(batchRows) || batchRows < 1) throw new PgpressError('PGP_VALIDATION', `--batch must be a positive whole number, got ${JSON.stringify(opts.batch)}.`);
      const s = settings();
      const { url, release } = await databaseUrlFor(s);
      const cluster = new Cluster({ url, max: 2, statementTimeoutMs: 0 });
      try {
        const r = await migrateEventsTable(cluster, {
          source: opts.source, batchRows, lockTimeoutMs: s.maintenance.lockTimeoutMs,
          onBatch: ({ copied }) => void process.stdout.write(`\rcopied ${copied} rows`),
        });
        process.stdout.write('\n');
        for (const m of r.months) console.log(`${m.month}  rows ${m.sourceRows} → ${m.targetRows}  checksum ${m.sourceChecksum === m.targetChecksum ? 'ok' : 'MISMATCH'}`);
        console.log(r.state === 'skipped' ? 'skipped: another migration holds the lock' : `${r.state}: ${r.copied} rows copied`);
        if (r.state === 'failed') process.exitCode = 1;
      } finally {
        await cluster.close();
        await release();
      }
    });
}
