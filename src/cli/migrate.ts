// `pgpress migrate [up]` and `pgpress migrate status`.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { PgpressError } from '../errors/index.ts';
import { migrate, migrationStatus } from '../migrate/index.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds the migrate command group to the program. */
export function migrateCommand(program: Command, settings: () => Settings): void {
  const cmd = program.command('migrate').description('apply pending migrations (migrate up) or show their state');

  const up = async (opts: { wait: boolean; to?: string }): Promise<void> => {
    const s = settings();
    const to = opts.to === undefined ? undefined : Number(opts.to);
    if (to !== undefined && !Number.isInteger(to)) throw new PgpressError('PGP_VALIDATION', `--to must be a migration version number, got ${JSON.stringify(opts.to)}.`);
    await withUrl(s, async (url) => {
      const applied = await migrate({ url, dir: resolve(s.migrationsDir), wait: opts.wait, ...(to === undefined ? {} : { to }), log: (m) => console.log(m) });
      console.log(applied.length === 0 ? 'Nothing to apply: the database is current.' : `Applied ${applied.length} migration(s).`);
    });
  };
  cmd.option('--no-wait', 'fail at once if another runner holds the migration lock').option('--to <version>', 'apply up to this version').action(up);
  cmd.command('up').description('apply pending migrations').option('--no-wait', 'fail at once if another runner holds the lock').option('--to <version>', 'apply up to this version').action(up);

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
}

async function withUrl(s: Settings, fn: (url: string) => Promise<void>): Promise<void> {
  const { url, release } = await databaseUrlFor(s);
  try {
    await fn(url);
  } finally {
    await release();
  }
}
