// `pgpress dump [--file F]` and `pgpress load --file F [--clean]`: logical export and import.
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { dumpDatabase, loadDatabase } from '../backup/logical.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds `dump` and `load` to the program. */
export function dumpCommands(program: Command, settings: () => Settings): void {
  program
    .command('dump')
    .description('export the database with pg_dump -Fc (for moving data between servers)')
    .option('--file <file>', 'output file (default: pgpress-<UTC time>.dump)')
    .action(async (o: { file?: string }) => {
      const s = settings();
      const file = o.file ?? `pgpress-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.dump`;
      const db = await databaseUrlFor(s);
      try {
        const r = await dumpDatabase({ databaseUrl: db.url, file, pgBindir: s.backup.pgBindir });
        console.log(`dumped into ${r.file} (${(r.bytes / 1048576).toFixed(1)} MiB)`);
      } finally {
        await db.release();
      }
    });
  program
    .command('load')
    .description('import a pgpress dump with pg_restore, in one transaction')
    .requiredOption('--file <file>', 'a file written by `pgpress dump`')
    .option('--clean', 'drop the objects of the dump first (DROP … IF EXISTS)')
    .action(async (o: { file: string; clean?: boolean }) => {
      const s = settings();
      const db = await databaseUrlFor(s);
      try {
        await loadDatabase({ databaseUrl: db.url, file: o.file, clean: o.clean === true, pgBindir: s.backup.pgBindir });
        console.log(`loaded ${o.file}`);
      } finally {
        await db.release();
      }
    });
}
