// `pgpress migrate [up] | status | repair | validate | lint | new`: each parses input and calls one library function.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { PgpressError } from '../errors/index.ts';
import {
  formatFinding, formatPlan, lintFiles, lintMigrations, migrate, migrationStatus, newMigration, planMigrations, repairMigration, validateMigrations,
} from '../migrate/index.ts';
import { confirm } from './confirm.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds the migrate command group to the program. */
export function migrateCommand(program: Command, settings: () => Settings): void {
  const cmd = program.command('migrate').description('apply pending migrations (migrate up) or inspect, repair, validate and lint them');

  const up = async (opts: { wait: boolean; to?: string; dryRun?: boolean }): Promise<void> => {
    const s = settings();
    const to = opts.to === undefined ? undefined : versionArg(opts.to, '--to');
    await withUrl(s, async (url) => {
      if (opts.dryRun) {
        console.log(formatPlan(await planMigrations({ url, dir: resolve(s.migrationsDir), ...(to === undefined ? {} : { to }) })));
        return;
      }
      const applied = await migrate({
        url, dir: resolve(s.migrationsDir), wait: opts.wait, lock: s.migrateLock, ...(to === undefined ? {} : { to }), log: (m) => console.log(m),
      });
      console.log(applied.length === 0 ? 'Nothing to apply: the database is current.' : `Applied ${applied.length} migration(s).`);
    });
  };
  const upOptions = (c: Command): Command =>
    c
      .option('--no-wait', 'fail at once if another runner holds the migration lock')
      .option('--to <version>', 'apply up to this version')
      .option('--dry-run', 'print the plan and its statements; change nothing');
  upOptions(cmd).action(up);
  upOptions(cmd.command('up').description('apply pending migrations')).action(up);

  cmd
    .command('status')
    .description('list migrations: applied, pending, changed (file edited after applying) or missing (file removed)')
    .action(async () => {
      const s = settings();
      await withUrl(s, async (url) => {
        const states = await migrationStatus({ url, dir: resolve(s.migrationsDir) });
        for (const m of states) {
          const when = m.appliedAt ? m.appliedAt.toISOString() : '';
          console.log(`${String(m.version).padStart(4, '0')}  ${m.state.padEnd(8)}  ${m.name.padEnd(32)}  ${when}`);
        }
        if (states.some((m) => m.state === 'changed' || m.state === 'missing')) process.exitCode = 2;
      });
    });

  cmd
    .command('repair <version>')
    .description('accept one deliberate edit of an applied migration: re-record its checksum (asks first)')
    .option('--yes', 'confirm without asking (needed without a terminal)')
    .action(async (version: string, opts: { yes?: boolean }) => {
      const s = settings();
      const v = versionArg(version, 'version');
      await confirm(`Re-record the checksum of migration ${v} from its file, accepting the edit?`, String(v), opts.yes === true);
      await withUrl(s, async (url) => {
        const r = await repairMigration({ url, dir: resolve(s.migrationsDir), version: v });
        console.log(r.repaired ? `Repaired ${r.file}: checksum ${r.from.slice(0, 12)}… → ${r.to.slice(0, 12)}…` : `${r.file} matches its record; nothing to repair.`);
      });
    });

  cmd
    .command('validate')
    .description("re-run applied migrations' checks, verify the history chain, and compare the live schema with what the migrations build")
    .action(async () => {
      const s = settings();
      await withUrl(s, async (url) => {
        const r = await validateMigrations({ url, dir: resolve(s.migrationsDir) });
        for (const d of r.drift) console.log(`drift: ${d.message}`);
        for (const c of r.failedChecks) console.log(`check failed: ${c.message}`);
        if (r.scratchError) console.log(`could not build the scratch database to compare with: ${r.scratchError}`);
        for (const d of r.schema) {
          console.log(`schema drift in ${d.section}:`);
          for (const l of d.missing) console.log(`  - ${l}   (the migrations create it; the database lacks it)`);
          for (const l of d.extra) console.log(`  + ${l}   (in the database only: made by hand?)`);
        }
        console.log(r.ok ? `Valid: ${r.applied} applied migration(s), checks pass, history intact, schema matches.` : 'Not valid (see above).');
        if (!r.ok) process.exitCode = 2;
      });
    });

  cmd
    .command('lint [files...]')
    .description('parse migrations with the PostgreSQL parser and flag dangerous DDL (default: every migration)')
    .action(async (files: string[]) => {
      const s = settings();
      const findings = files.length > 0 ? await lintFiles(files.map((f) => resolve(f))) : await lintMigrations(resolve(s.migrationsDir));
      for (const f of findings) console.log(formatFinding(f));
      const open = findings.filter((f) => !f.acknowledged).length;
      console.log(`${findings.length} finding(s), ${open} not acknowledged.`);
      if (open > 0) process.exitCode = 1;
    });

  cmd
    .command('new <name>')
    .description('write the next numbered migration from the idempotent template')
    .action(async (name: string) => {
      console.log(`Created ${await newMigration({ dir: resolve(settings().migrationsDir), name })}`);
    });
}

function versionArg(raw: string, what: string): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new PgpressError('PGP_VALIDATION', `${what} must be a migration version number, got ${JSON.stringify(raw)}.`);
  return v;
}

async function withUrl(s: Settings, fn: (url: string) => Promise<void>): Promise<void> {
  const { url, release } = await databaseUrlFor(s);
  try {
    await fn(url);
  } finally {
    await release();
  }
}
