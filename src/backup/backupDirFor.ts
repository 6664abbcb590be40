// Which BACKUP_DIR a command uses: the setting; for the embedded default, backups/ beside its
// cluster (where the postgres OS user can write, also when the cluster was relocated for it).
import { existsSync, lstatSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PgpressError } from '../errors/index.ts';

/** BACKUP_DIR, or the embedded default's; with DATABASE_URL and no BACKUP_DIR, an error saying what to set. */
export function backupDirFor(s: { backupDir: string | undefined; databaseUrl: string | undefined; dataDir: string }): string {
  if (s.backupDir !== undefined) return resolve(s.backupDir);
  if (s.databaseUrl !== undefined) {
    throw new PgpressError('PGP_CONFIG_INVALID', 'BACKUP_DIR is not set: with DATABASE_URL, set it to a folder on the database server\'s machine that the postgres OS user can write (for example /var/lib/pgpress/backups).');
  }
  const root = resolve(s.dataDir);
  const local = join(root, 'backups');
  const pgdata = join(root, 'pg');
  // When the cluster had to move where the postgres user can reach it (pgpress as root below
  // /root, see db/embeddedPaths.ts), its backups move beside it and backups/ links there.
  if (!existsSync(pgdata) || !lstatSync(pgdata).isSymbolicLink()) return local;
  const relocated = join(dirname(realpathSync(pgdata)), 'backups');
  mkdirSync(relocated, { recursive: true, mode: 0o700 });
  if (!existsSync(local)) symlinkSync(relocated, local);
  return relocated;
}
