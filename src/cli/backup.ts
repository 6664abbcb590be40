// `pgpress backup [--type full|incr] [--json]` and `pgpress backup verify [--id ID] [--json]`.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { backupDirFor } from '../backup/backupDirFor.ts';
import { configureArchiving, takeBackup, verifyBackup, type BackupSummary } from '../backup/index.ts';
import { toolForBackup, toolForRestore, type BackupTool } from '../backup/backupTool.ts';
import { configurePgbackrest, pgbackrestBackup } from '../backup/pgbackrest.ts';
import { pgbackrestVerify } from '../backup/pgbackrestVerify.ts';
import { pruneBackups } from '../backup/prune.ts';
import { PgpressError } from '../errors/index.ts';
import { databaseUrlFor, type CommandDatabase } from './databaseUrl.ts';

function dirOf(s: Settings): string {
  return backupDirFor({ backupDir: s.backup.dir, databaseUrl: s.databaseUrl, dataDir: s.dataDir });
}

/** The tool, archiving on for it (restarting the embedded server this command started when archive_mode changed), the database. */
async function archivingDatabase(s: Settings, backupDir: string, say: (m: string) => void): Promise<{ db: CommandDatabase; tool: BackupTool }> {
  const db = await databaseUrlFor(s);
  let restartNeeded: boolean;
  let tool: BackupTool;
  try {
    tool = await toolForBackup(s.backup.tool, db.url, backupDir);
    ({ restartNeeded } = tool === 'pgbackrest'
      ? await configurePgbackrest({ databaseUrl: db.url, backupDir, retentionFull: s.backup.retentionFull })
      : await configureArchiving({ databaseUrl: db.url, backupDir }));
  } catch (e) {
    await db.release();
    throw e;
  }
  if (!restartNeeded) return { db, tool };
  if (s.databaseUrl === undefined && db.source.startsWith('embedded, started')) {
    say(`WAL archiving into ${backupDir} is now on; restarting the embedded PostgreSQL (archive_mode is read at start)`);
    await db.release();
    return { db: await databaseUrlFor(s), tool };
  }
  await db.release();
  const who = s.databaseUrl === undefined ? `the pgpress process holding ${s.dataDir} (${db.source}); the embedded PostgreSQL reads archive_mode at start` : 'the PostgreSQL server (archive_mode is read at start)';
  throw new PgpressError('PGP_BACKUP_FAILED', `WAL archiving into ${backupDir} is now configured (ALTER SYSTEM), but it takes effect only after a restart: restart ${who}, then run \`pgpress backup\` again.`);
}

function printSummary(b: BackupSummary): void {
  console.log(`backup ${b.id}: ${b.files} files, ${(b.bytes / 1048576).toFixed(1)} MiB in ${(b.durationMs / 1000).toFixed(1)} s`);
  console.log(`  ${b.dir}`);
  console.log(`  WAL ${b.startLsn} … ${b.stopLsn}, consistent at ${b.stoppedAt}`);
  console.log(b.figuresSkipped ? `  ${b.figuresSkipped}` : `  ${b.tables} tables' row counts and checksums recorded at restore point ${b.restorePoint}`);
}

/** Adds `backup` and `backup verify` to the program. */
export function backupCommand(program: Command, settings: () => Settings): void {
  const backup = program
    .command('backup')
    .description('take a base backup into BACKUP_DIR (turning on WAL archiving there first)')
    .option('--type <type>', 'pgBackRest: full or incr (the built-in path always takes a full backup)', 'incr')
    .option('--json', 'print the summary as one JSON object')
    .action(async (o: { json?: boolean; type: string }) => {
      if (o.type !== 'full' && o.type !== 'incr') throw new PgpressError('PGP_VALIDATION', `--type must be full or incr, got ${JSON.stringify(o.type)}.`);
      const s = settings();
      const backupDir = dirOf(s);
      const say = (m: string): void => void process.stderr.write(`pgpress: ${m}\n`);
      const { db, tool } = await archivingDatabase(s, backupDir, say);
      if (tool === 'pgbackrest') {
        try {
          const summary = await pgbackrestBackup({ databaseUrl: db.url, backupDir, type: o.type, retentionFull: s.backup.retentionFull });
          if (o.json) console.log(JSON.stringify({ backupDir, ...summary }));
          else console.log(`pgBackRest ${summary.type} backup ${summary.label}: ${(summary.bytes / 1048576).toFixed(1)} MiB in ${(summary.durationMs / 1000).toFixed(1)} s; ${summary.backups} backups kept (BACKUP_RETENTION_FULL=${s.backup.retentionFull} full)`);
        } finally {
          await db.release();
        }
        return;
      }
      const tty = process.stderr.isTTY && !o.json;
      const bar = new cliProgress.SingleBar({ format: 'copy [{bar}] {percentage}% {value}/{total} MiB {duration}s', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
      let barStarted = false;
      try {
        const summary = await takeBackup({
          databaseUrl: db.url,
          backupDir,
          onProgress: tty ? (done, total) => {
            const mib = (n: number): number => Math.round(n / 1048576);
            if (!barStarted) {
              bar.start(mib(total), 0);
              barStarted = true;
            }
            bar.setTotal(mib(total));
            bar.update(mib(done));
          } : undefined,
        });
        if (barStarted) bar.stop();
        const pruned = pruneBackups({ backupDir, keep: s.backup.retentionFull });
        if (o.json) console.log(JSON.stringify({ backupDir, ...summary, pruned }));
        else {
          printSummary(summary);
          if (pruned.removedBackups.length > 0) console.log(`  retention (BACKUP_RETENTION_FULL=${s.backup.retentionFull}): removed backups ${pruned.removedBackups.join(', ')} and ${pruned.removedWalFiles} WAL files before the oldest kept`);
        }
      } finally {
        if (barStarted) bar.stop();
        await db.release();
      }
    });
  backup
    .command('verify')
    .description('restore the newest backup into a throwaway cluster, run amcheck and compare table checksums with the source')
    .option('--id <id>', 'verify this backup instead of the newest')
    .option('--json', 'print the report as one JSON object')
    .action(async (o: { id?: string; json?: boolean }) => {
      const s = settings();
      const backupDir = dirOf(s);
      const verify = toolForRestore(s.backup.tool, backupDir) === 'pgbackrest' ? pgbackrestVerify : verifyBackup;
      const report = await verify({ backupDir, backupId: o.id, pgBindir: s.backup.pgBindir });
      if (o.json) console.log(JSON.stringify(report));
      else {
        console.log(`backup ${report.backupId}: ${report.ok ? 'OK' : 'FAILED'} (${(report.durationMs / 1000).toFixed(1)} s)`);
        console.log(`  ${report.indexesChecked} btree indexes passed amcheck; ${report.tables.filter((t) => t.ok).length}/${report.tables.length} tables match the source's row counts and checksums`);
        for (const p of report.problems) console.log(`  problem: ${p}`);
      }
      if (!report.ok) {
        const files = report.badFiles.length > 0 ? `damaged files: ${report.badFiles.join('; ')}` : report.problems.join('; ');
        throw new PgpressError('PGP_BACKUP_CORRUPT', `Backup ${report.backupId} failed verification: ${files}`, { details: { backupId: report.backupId, badFiles: report.badFiles } });
      }
    });
}
