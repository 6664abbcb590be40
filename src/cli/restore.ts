// `pgpress restore --to <ISO time|latest> --target <dir> [--port N] [--json]`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import type { Settings } from '../config/settings.ts';
import { backupDirFor } from '../backup/backupDirFor.ts';
import { toolForRestore } from '../backup/backupTool.ts';
import { restoreBackup } from '../backup/index.ts';
import { pgbackrestRestore } from '../backup/pgbackrest.ts';
import { amcheckIndexes } from '../backup/verifyBackup.ts';
import { PgpressError } from '../errors/index.ts';

/** The password of the user backups are taken as: DATABASE_URL's, or the embedded default's generated one. */
function sourcePassword(s: Settings): string | undefined {
  if (s.databaseUrl !== undefined) {
    const p = new URL(s.databaseUrl.split(',')[0]!).password;
    return p === '' ? undefined : decodeURIComponent(p);
  }
  try {
    return readFileSync(join(s.dataDir, 'postgres-password'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function checkIndexes(url: string): Promise<{ indexes: number; problems: string[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await amcheckIndexes(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Parses --to: 'latest' or an ISO 8601 time with a zone. */
export function parseRestoreTarget(to: string): Date | 'latest' {
  if (to === 'latest') return 'latest';
  const d = new Date(to);
  // A time without a zone would mean the machine's zone: ask for one rather than guess.
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(to) || Number.isNaN(d.getTime())) {
    throw new PgpressError('PGP_VALIDATION', `--to must be 'latest' or an ISO time with a zone such as 2026-12-01T14:30:00Z, got ${JSON.stringify(to)}.`);
  }
  return d;
}

/** Adds `restore` to the program. */
export function restoreCommand(program: Command, settings: () => Settings): void {
  program
    .command('restore')
    .description('build a new cluster from the newest base backup before --to and replay archived WAL up to it, then start it')
    .requiredOption('--to <time>', "ISO time with a zone (2026-12-01T14:30:00Z) or 'latest'")
    .requiredOption('--target <dir>', 'new data directory (must not exist or be empty)')
    .option('--port <n>', 'port of the restored server on 127.0.0.1', '5433')
    .option('--no-check', 'skip amcheck of the restored indexes (it creates the amcheck extension in the restored database)')
    .option('--json', 'print the result as one JSON object')
    .action(async (o: { to: string; target: string; port: string; json?: boolean; check?: boolean }) => {
      const s = settings();
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PgpressError('PGP_VALIDATION', `--port must be a port number, got ${JSON.stringify(o.port)}.`);
      const to = parseRestoreTarget(o.to);
      const backupDir = backupDirFor({ backupDir: s.backup.dir, databaseUrl: s.databaseUrl, dataDir: s.dataDir });
      const restore = toolForRestore(s.backup.tool, backupDir) === 'pgbackrest' ? pgbackrestRestore : restoreBackup;
      const r = await restore({ backupDir, to, targetDir: o.target, port, pgBindir: s.backup.pgBindir, password: sourcePassword(s) });
      // The server keeps running: the restore's result is a serving cluster, checked with amcheck.
      const checked = o.check === false ? undefined : await checkIndexes(r.url);
      const out = { backupId: r.backupId, dataDir: r.dataDir, port: r.port, recoveredTo: r.recoveredTo, logFile: r.logFile, durationMs: r.durationMs, indexesChecked: checked?.indexes };
      if (o.json) console.log(JSON.stringify(out));
      else {
        console.log(`restored backup ${r.backupId} into ${r.dataDir} and replayed WAL up to ${r.recoveredTo} (${to === 'latest' ? 'latest' : to.toISOString()}) in ${(r.durationMs / 1000).toFixed(1)} s`);
        if (checked) console.log(`amcheck: ${checked.indexes} btree indexes checked, ${checked.problems.length} problems`);
        console.log(`the server runs on 127.0.0.1:${r.port} (log: ${r.logFile}); stop it with: pg_ctl stop -D ${r.dataDir}`);
      }
      if (checked && checked.problems.length > 0) {
        throw new PgpressError('PGP_BACKUP_CORRUPT', `The restored cluster (still running on port ${r.port}) failed amcheck: ${checked.problems.join('; ')}`);
      }
    });
}
