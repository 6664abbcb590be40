// Continuous WAL archiving into BACKUP_DIR/wal: the archive script, the settings that run it,
// turning it on for a running server, and waiting until a segment has reached the archive.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { assertServerCanEnter, pgOwner } from './pgBinaries.ts';
import { runFormatted } from '../db/utilityStatement.ts';

// Copy to a temp name, fsync, rename, fsync the folder: a crash leaves no half segment under its
// real name. A segment already archived is accepted only if identical (PostgreSQL retries after a
// crash between archiving and recording it); a different one is refused, never overwritten.
const ARCHIVE_SCRIPT = `#!/bin/sh
# pgpress WAL archive command (archive_command = '<this file> %p %f'); written by pgpress.
set -eu
src="$1"
name="$2"
dir="$(dirname "$0")/wal"
dest="$dir/$name"
if [ -e "$dest" ]; then
  if cmp -s "$src" "$dest"; then exit 0; fi
  echo "pgpress archive: $dest already exists with different content; refusing to overwrite it" >&2
  exit 1
fi
tmp="$dir/.$name.tmp.$$"
cp "$src" "$tmp"
sync "$tmp"
mv "$tmp" "$dest"
sync "$dir"
`;

/** The script's name inside BACKUP_DIR. */
export const ARCHIVE_SCRIPT_NAME = 'archive-wal.sh';

/** Folder of the archived WAL segments inside BACKUP_DIR. */
export function walDir(backupDir: string): string {
  return join(resolve(backupDir), 'wal');
}

function assertSafePath(dir: string): void {
  // The path goes into archive_command/restore_command in single quotes, where % is a placeholder.
  if (/['%\n\\]/.test(dir)) {
    throw new PgpressError('PGP_BACKUP_FAILED', `BACKUP_DIR ${JSON.stringify(dir)} contains a quote, %, backslash or newline; choose a plain path.`);
  }
}

/** archive_command for BACKUP_DIR (the exact text pgpress sets and later recognises). */
export function archiveCommand(backupDir: string): string {
  const dir = resolve(backupDir);
  assertSafePath(dir);
  return `'${join(dir, ARCHIVE_SCRIPT_NAME)}' '%p' '%f'`;
}

/** restore_command that reads the segments back from BACKUP_DIR/wal. */
export function restoreCommand(backupDir: string): string {
  const dir = walDir(backupDir);
  assertSafePath(dir);
  return `cp '${dir}/%f' '%p'`;
}

/** Creates BACKUP_DIR, its wal/ folder and the archive script, writable by the server's OS user. */
export function prepareBackupDir(backupDir: string): void {
  const dir = resolve(backupDir);
  assertSafePath(dir);
  mkdirSync(join(dir, 'wal'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'base'), { recursive: true, mode: 0o700 });
  const script = join(dir, ARCHIVE_SCRIPT_NAME);
  writeFileSync(script, ARCHIVE_SCRIPT);
  chmodSync(script, 0o755);
  const owner = pgOwner();
  // The archiver runs as the server's user: it must enter BACKUP_DIR and write wal/.
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(join(dir, 'wal'), owner.uid, owner.gid);
  }
  assertServerCanEnter(join(dir, 'wal'), 'BACKUP_DIR, where the archive command writes WAL');
}

/** postgresql.conf settings that archive into BACKUP_DIR from a server's first start. */
export function archiveSettings(backupDir: string, opts: { archiveTimeoutS?: number } = {}): Record<string, string> {
  prepareBackupDir(backupDir);
  const settings: Record<string, string> = { archive_mode: 'on', archive_command: archiveCommand(backupDir) };
  if (opts.archiveTimeoutS !== undefined) settings.archive_timeout = `${opts.archiveTimeoutS}s`;
  return settings;
}

/** What a server's archiving looks like from pgpress's side. */
export interface ArchivingState {
  /** archive_mode on and archive_command archives into this BACKUP_DIR. */
  active: boolean;
  archiveMode: string;
  archiveCommand: string;
  walLevel: string;
}

/** Reads archive_mode, archive_command and wal_level. */
export async function archivingState(client: pg.ClientBase, backupDir: string): Promise<ArchivingState> {
  const { rows } = await client.query<{ name: string; setting: string }>(
    "SELECT name, setting FROM pg_settings WHERE name IN ('archive_mode', 'archive_command', 'wal_level')");
  const get = (n: string): string => rows.find((r) => r.name === n)?.setting ?? '';
  const mode = get('archive_mode');
  const command = get('archive_command');
  return { active: mode !== 'off' && command === archiveCommand(backupDir), archiveMode: mode, archiveCommand: command, walLevel: get('wal_level') };
}

/** Points a running server's archive_command at BACKUP_DIR (ALTER SYSTEM); restartNeeded when
 *  archive_mode or wal_level had to change (they are read only at server start). */
export async function configureArchiving(opts: { databaseUrl: string; backupDir: string }): Promise<{ restartNeeded: boolean; changed: boolean }> {
  prepareBackupDir(opts.backupDir);
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  try {
    const state = await archivingState(client, opts.backupDir);
    if (state.active) return { restartNeeded: false, changed: false };
    const ours = archiveCommand(opts.backupDir);
    // An archive_command that is set and active belongs to someone: never replace it silently.
    if (state.archiveMode !== 'off' && state.archiveCommand !== '' && !state.archiveCommand.includes(ARCHIVE_SCRIPT_NAME)) {
      throw new PgpressError('PGP_BACKUP_FAILED', `The server already archives WAL with archive_command = ${state.archiveCommand}. pgpress will not replace it: clear it (ALTER SYSTEM RESET archive_command) to let pgpress archive into ${resolve(opts.backupDir)}, or use your existing tool's backups.`);
    }
    await runFormatted(client, 'ALTER SYSTEM SET archive_command = %L', [ours]);
    let restartNeeded = false;
    if (state.archiveMode === 'off') {
      await client.query("ALTER SYSTEM SET archive_mode = 'on'");
      restartNeeded = true;
    }
    if (state.walLevel === 'minimal') {
      await client.query("ALTER SYSTEM SET wal_level = 'replica'");
      restartNeeded = true;
    }
    await client.query('SELECT pg_reload_conf()');
    return { restartNeeded, changed: true };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Switches to a new WAL segment and waits until the finished one is archived; returns the switch LSN. */
export async function waitForArchived(databaseUrl: string, timeoutMs = 120_000): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: [sw] } = await client.query<{ lsn: string; wal: string; failed: string }>(
      'SELECT s.lsn::text AS lsn, pg_walfile_name(s.lsn) AS wal, (SELECT failed_count FROM pg_stat_archiver)::text AS failed FROM (SELECT pg_switch_wal() AS lsn) s');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows: [a] } = await client.query<{ last: string | null; failed: string; lastFailed: string | null }>(
        'SELECT last_archived_wal AS last, failed_count::text AS failed, last_failed_wal AS "lastFailed" FROM pg_stat_archiver');
      // Same timeline prefix, so names order like positions.
      if (a!.last !== null && a!.last.slice(8) >= sw!.wal.slice(8)) return sw!.lsn;
      if (Date.now() > deadline) {
        const failing = Number(a!.failed) > Number(sw!.failed) ? ` The archive command is failing (last failed segment ${a!.lastFailed}); the server log says why.` : '';
        throw new PgpressError('PGP_BACKUP_FAILED', `WAL segment ${sw!.wal} was not archived within ${Math.round(timeoutMs / 1000)} s.${failing}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

