// The pgBackRest path (Debian `pgbackrest`): pgpress writes its configuration under
// BACKUP_DIR/pgbackrest, sets `archive-push` as the archive_command, creates the stanza, runs full
// or incremental backups with retention, restores to a time, and verifies like the built-in path.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { isPgpressError, PgpressError } from '../errors/index.ts';
import { prepareBackupDir } from './archiving.ts';
import type { TableFigure } from './manifest.ts';
import { findProgram, pgOwner, runProgram } from './pgBinaries.ts';
import { pgTime, startRecovery, type RestoredServer } from './restoreBackup.ts';
import { figuresAtRestorePoint } from './tableFigures.ts';
import { runFormatted } from '../db/utilityStatement.ts';

/** The stanza pgpress configures. */
export const STANZA = 'pgpress';

/** Where pgBackRest is installed, or undefined. */
export function pgbackrestBinary(): string | undefined {
  if (existsSync('/usr/bin/pgbackrest')) return '/usr/bin/pgbackrest';
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'pgbackrest'))) return join(dir, 'pgbackrest');
  return undefined;
}

/** The configuration file pgpress writes for BACKUP_DIR. */
export function pgbackrestConfig(backupDir: string): string {
  return join(resolve(backupDir), 'pgbackrest', 'pgbackrest.conf');
}

function binary(): string {
  const b = pgbackrestBinary();
  if (!b) throw new PgpressError('PGP_TOOL_MISSING', 'BACKUP_TOOL=pgbackrest, but pgbackrest is not installed. Install it (apt-get install pgbackrest) or set BACKUP_TOOL=builtin.');
  return b;
}

/** archive_command that pushes into pgpress's pgBackRest repository. */
export function pgbackrestArchiveCommand(backupDir: string): string {
  return `${binary()} --config=${pgbackrestConfig(backupDir)} --stanza=${STANZA} archive-push %p`;
}

async function rest(backupDir: string, args: string[]): Promise<string> {
  return runProgram(binary(), [`--config=${pgbackrestConfig(backupDir)}`, `--stanza=${STANZA}`, ...args]);
}

/** The server's facts pgBackRest's configuration needs. */
interface ServerFacts {
  dataDir: string;
  port: string;
  socketDir: string;
  user: string;
  major: string;
}

async function serverFacts(client: pg.ClientBase): Promise<ServerFacts> {
  const { rows: [r] } = await client.query<{ datadir: string; port: string; sockets: string; usr: string; major: string }>(
    `SELECT current_setting('data_directory') AS datadir, current_setting('port') AS port,
            current_setting('unix_socket_directories') AS sockets, current_user AS usr,
            (current_setting('server_version_num')::int / 10000)::text AS major`);
  const socketDir = r!.sockets.split(',')[0]!.trim();
  // pgBackRest talks to a local server through its Unix socket only.
  if (socketDir === '') throw new PgpressError('PGP_BACKUP_FAILED', 'pgBackRest needs the server\'s Unix socket, and this server has none (unix_socket_directories is empty): use BACKUP_TOOL=builtin.');
  return { dataDir: r!.datadir, port: r!.port, socketDir, user: r!.usr, major: r!.major };
}

function writeConfig(backupDir: string, f: ServerFacts, retentionFull: number): void {
  const dir = join(resolve(backupDir), 'pgbackrest');
  for (const d of ['', 'repo', 'log', 'lock', 'spool']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  writeFileSync(pgbackrestConfig(backupDir), [
    '# written by pgpress (BACKUP_TOOL=pgbackrest); pgpress rewrites it on each backup',
    '[global]',
    `repo1-path=${join(dir, 'repo')}`,
    `repo1-retention-full=${retentionFull}`,
    `lock-path=${join(dir, 'lock')}`,
    `log-path=${join(dir, 'log')}`,
    `spool-path=${join(dir, 'spool')}`,
    'log-level-console=warn',
    'log-level-file=info',
    'start-fast=y',
    '',
    `[${STANZA}]`,
    `pg1-path=${f.dataDir}`,
    `pg1-port=${f.port}`,
    `pg1-socket-path=${f.socketDir}`,
    `pg1-user=${f.user}`,
    '',
  ].join('\n'));
}

/** Writes the configuration and points archive_command at archive-push; restartNeeded when archive_mode was off. */
export async function configurePgbackrest(opts: { databaseUrl: string; backupDir: string; retentionFull: number }): Promise<{ restartNeeded: boolean }> {
  prepareBackupDir(opts.backupDir);
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  try {
    const facts = await serverFacts(client);
    writeConfig(opts.backupDir, facts, opts.retentionFull);
    const owner = pgOwner();
    if (owner) await runProgram('chown', ['-R', `${owner.uid}:${owner.gid}`, join(resolve(opts.backupDir), 'pgbackrest')], { asOwner: false });
    const { rows } = await client.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name IN ('archive_mode', 'archive_command')");
    const mode = rows.find((r) => r.name === 'archive_mode')?.setting ?? 'off';
    const command = rows.find((r) => r.name === 'archive_command')?.setting ?? '';
    const ours = pgbackrestArchiveCommand(opts.backupDir);
    if (mode !== 'off' && command === ours) return { restartNeeded: false };
    if (mode !== 'off' && command !== '' && !command.includes('pgbackrest') && !command.includes('archive-wal.sh')) {
      throw new PgpressError('PGP_BACKUP_FAILED', `The server already archives WAL with archive_command = ${command}; pgpress will not replace it. Clear it (ALTER SYSTEM RESET archive_command) first.`);
    }
    await runFormatted(client, 'ALTER SYSTEM SET archive_command = %L', [ours]);
    if (mode === 'off') await client.query("ALTER SYSTEM SET archive_mode = 'on'");
    await client.query('SELECT pg_reload_conf()');
    return { restartNeeded: mode === 'off' };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** True when the server already archives through pgpress's pgBackRest configuration (BACKUP_TOOL=auto picks it). */
export async function archivesWithPgbackrest(databaseUrl: string, backupDir: string): Promise<boolean> {
  if (!pgbackrestBinary() || !existsSync(pgbackrestConfig(backupDir))) return false;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: [r] } = await client.query<{ cmd: string }>("SELECT current_setting('archive_command') AS cmd");
    return r!.cmd.includes(`--config=${pgbackrestConfig(backupDir)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What one pgBackRest backup did. */
export interface PgbackrestSummary {
  tool: 'pgbackrest';
  label: string;
  type: 'full' | 'incr' | 'diff';
  startLsn: string;
  stopLsn: string;
  startedAt: string;
  stoppedAt: string;
  bytes: number;
  /** Backups kept in the repository after retention. */
  backups: number;
  restorePoint: string | null;
  tables: number;
  durationMs: number;
}

interface InfoBackup {
  label: string;
  type: 'full' | 'incr' | 'diff';
  timestamp: { start: number; stop: number };
  lsn: { start: string; stop: string };
  info: { size: number };
}

async function info(backupDir: string): Promise<InfoBackup[]> {
  const out = await rest(backupDir, ['--output=json', 'info']);
  const parsed = JSON.parse(out) as { backup: InfoBackup[] }[];
  return parsed[0]?.backup ?? [];
}

function figuresFile(backupDir: string, label: string): string {
  return join(resolve(backupDir), 'pgbackrest', `figures-${label}.json`);
}

/** stanza-create (once), then a full or incremental backup, retention, and the table figures at a restore point. */
export async function pgbackrestBackup(opts: { databaseUrl: string; backupDir: string; type: 'full' | 'incr'; retentionFull: number }): Promise<PgbackrestSummary> {
  const t0 = Date.now();
  try {
    const client = new pg.Client({ connectionString: opts.databaseUrl });
    await client.connect();
    let facts: ServerFacts;
    try {
      facts = await serverFacts(client);
    } finally {
      await client.end().catch(() => undefined);
    }
    writeConfig(opts.backupDir, facts, opts.retentionFull);
    const owner = pgOwner();
    if (owner) await runProgram('chown', ['-R', `${owner.uid}:${owner.gid}`, join(resolve(opts.backupDir), 'pgbackrest')], { asOwner: false });
    if (!existsSync(join(resolve(opts.backupDir), 'pgbackrest', 'repo', 'backup', STANZA, 'backup.info'))) await rest(opts.backupDir, ['stanza-create']);
    // expire runs after each backup: repo1-retention-full full backups (and what depends on them) are kept.
    await rest(opts.backupDir, [`--type=${opts.type}`, 'backup']);
    const all = await info(opts.backupDir);
    const last = all[all.length - 1]!;
    let restorePoint: string | null = null;
    let figures: TableFigure[] = [];
    try {
      const at = await figuresAtRestorePoint(opts.databaseUrl, `pgpress-backup-${last.label}`);
      restorePoint = at.restorePoint;
      figures = at.figures;
      writeFileSync(figuresFile(opts.backupDir, last.label), JSON.stringify({ restorePoint, figures, database: new URL(opts.databaseUrl).pathname.slice(1) || 'postgres', user: facts.user }));
      const c = new pg.Client({ connectionString: opts.databaseUrl });
      await c.connect();
      try {
        await c.query('SELECT pg_switch_wal()');
      } finally {
        await c.end().catch(() => undefined);
      }
    } catch {
      restorePoint = null;
    }
    return {
      tool: 'pgbackrest', label: last.label, type: last.type, startLsn: last.lsn.start, stopLsn: last.lsn.stop,
      startedAt: new Date(last.timestamp.start * 1000).toISOString(), stoppedAt: new Date(last.timestamp.stop * 1000).toISOString(),
      bytes: last.info.size, backups: all.length, restorePoint, tables: figures.length, durationMs: Date.now() - t0,
    };
  } catch (e) {
    if (isPgpressError(e)) throw e;
    throw new PgpressError('PGP_BACKUP_FAILED', `pgBackRest backup failed: ${(e as Error).message}`, { cause: e });
  }
}

/** pgbackrest restore into targetDir (to a time, 'latest', or a restore point), then start and wait for promotion. */
export async function pgbackrestRestore(opts: {
  backupDir: string; to: Date | 'latest'; targetDir: string; port: number; pgBindir?: string; password?: string;
  restorePoint?: string; set?: string; trustLocal?: boolean; settings?: Record<string, string>; timeoutMs?: number;
}): Promise<RestoredServer> {
  const t0 = Date.now();
  const target = resolve(opts.targetDir);
  const all = await info(opts.backupDir);
  if (all.length === 0) throw new PgpressError('PGP_RESTORE_FAILED', `No pgBackRest backup in ${pgbackrestConfig(opts.backupDir)}'s repository: run \`pgpress backup\` first.`);
  mkdirSync(target, { recursive: true, mode: 0o700 });
  const owner = pgOwner();
  if (owner) await runProgram('chown', [`${owner.uid}:${owner.gid}`, target], { asOwner: false });
  const args = [`--pg1-path=${target}`, '--target-timeline=current'];
  if (opts.restorePoint) args.push('--type=name', `--target=${opts.restorePoint}`, '--target-action=promote');
  else if (opts.to !== 'latest') args.push('--type=time', `--target=${pgTime(opts.to)}`, '--target-action=promote');
  if (opts.set) args.push(`--set=${opts.set}`);
  try {
    await rest(opts.backupDir, [...args, 'restore']);
  } catch (e) {
    throw new PgpressError('PGP_RESTORE_FAILED', `pgbackrest restore failed: ${(e as Error).message}`, { cause: e });
  }
  const major = readFileSync(join(target, 'PG_VERSION'), 'utf8').trim();
  const pgCtl = findProgram('pg_ctl', major, opts.pgBindir);
  const label = opts.set ?? all[all.length - 1]!.label;
  const fig = readFigures(opts.backupDir, label);
  // pgbackrest wrote restore_command, the target and recovery.signal; these settings come after.
  const started = await startRecovery({
    target, pgCtl, port: opts.port, settings: { ...opts.settings }, trustLocal: opts.trustLocal, label: `pgBackRest backup ${label}`,
    user: fig?.user ?? 'postgres', database: fig?.database ?? 'postgres', password: opts.password, timeoutMs: opts.timeoutMs,
  });
  return {
    ...started, port: opts.port, dataDir: target, backupId: label, durationMs: Date.now() - t0,
  };
}

/** Figures recorded with a pgBackRest backup, if any. */
export function readFigures(backupDir: string, label: string): { restorePoint: string; figures: TableFigure[]; database: string; user: string } | undefined {
  try {
    return JSON.parse(readFileSync(figuresFile(backupDir, label), 'utf8')) as { restorePoint: string; figures: TableFigure[]; database: string; user: string };
  } catch {
    return undefined;
  }
}

/** The newest backup's label. */
export async function newestLabel(backupDir: string): Promise<string | undefined> {
  const all = await info(backupDir);
  return all[all.length - 1]?.label;
}

/** `pgbackrest verify`: checksums of every file and WAL segment in the repository; the problems it reports. */
export async function pgbackrestVerifyRepo(backupDir: string): Promise<string[]> {
  try {
    const out = await rest(backupDir, ['--log-level-console=info', 'verify']);
    // verify exits 0 but reports "invalid" / "missing" items on the console when something is wrong.
    return out.split('\n').filter((l) => /invalid|missing|error/i.test(l) && !/0 (invalid|missing)/.test(l)).map((l) => l.trim());
  } catch (e) {
    return [`pgbackrest verify: ${(e as Error).message}`];
  }
}
