// `pgpress tune`: the tuning advisor. It reads statistics and plans and changes nothing; with
// --write-migrations it writes each recommended index as the next migration file.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { PgpressError } from '../errors/index.ts';
import { tune } from '../ops/tuning/advisor.ts';
import { formatTuneReport } from '../ops/tuning/format.ts';
import { localMachine, parseSize } from '../ops/tuning/machine.ts';
import type { Machine } from '../ops/tuning/settingsAdvice.ts';
import { databaseUrlFor } from './databaseUrl.ts';

interface TuneFlags { json?: boolean; top: string; memory?: string; cores?: string; disk?: string; minStatsDays: string; writeMigrations?: boolean }

function machineFrom(f: TuneFlags): Machine {
  const local = localMachine();
  const memoryBytes = f.memory === undefined ? local.memoryBytes : parseSize(f.memory);
  const cores = f.cores === undefined ? local.cores : Number(f.cores);
  if (memoryBytes === undefined || memoryBytes <= 0) throw new PgpressError('PGP_VALIDATION', `--memory must be a size such as 16GiB or 512MiB, got ${JSON.stringify(f.memory)}.`);
  if (!Number.isInteger(cores) || cores < 1) throw new PgpressError('PGP_VALIDATION', `--cores must be a whole number ≥ 1, got ${JSON.stringify(f.cores)}.`);
  if (f.disk !== undefined && !['ssd', 'hdd', 'unknown'].includes(f.disk)) throw new PgpressError('PGP_VALIDATION', `--disk must be ssd, hdd or unknown, got ${JSON.stringify(f.disk)}.`);
  return { memoryBytes, cores, disk: (f.disk as Machine['disk'] | undefined) ?? local.disk };
}

/** Adds the tune command to the program. */
export function tuneCommand(program: Command, settings: () => Settings): void {
  program
    .command('tune')
    .description('advise on indexes (missing, unused, redundant), costly statements and server settings; changes nothing')
    .option('--json', 'print the report as JSON')
    .option('--top <n>', 'statements to report by total time', '10')
    .option('--memory <size>', "the database machine's memory (default: this machine's), e.g. 16GiB")
    .option('--cores <n>', "the database machine's cores (default: this machine's)")
    .option('--disk <kind>', 'ssd, hdd or unknown (default: from /sys/block)')
    .option('--min-stats-days <days>', 'statistics window under which an unused index is not conclusive', '7')
    .option('--write-migrations', 'write each recommended index as the next migration in MIGRATIONS_DIR (never applied)')
    .action(async (f: TuneFlags) => {
      const s = settings();
      const top = Number(f.top);
      const days = Number(f.minStatsDays);
      if (!Number.isInteger(top) || top < 1) throw new PgpressError('PGP_VALIDATION', `--top must be a whole number ≥ 1, got ${JSON.stringify(f.top)}.`);
      if (!Number.isFinite(days) || days < 0) throw new PgpressError('PGP_VALIDATION', `--min-stats-days must be a number ≥ 0, got ${JSON.stringify(f.minStatsDays)}.`);
      const machine = machineFrom(f);
      const { url, release } = await databaseUrlFor(s);
      try {
        const report = await tune({ url, top, machine, minStatsWindowSeconds: days * 86_400, writeMigrationsTo: f.writeMigrations ? resolve(s.migrationsDir) : undefined });
        if (f.json) console.log(JSON.stringify(report, null, 2));
        else for (const line of formatTuneReport(report)) console.log(line);
      } finally {
        await release();
      }
    });
}
