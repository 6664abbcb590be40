// The built-in base backup: PostgreSQL's low-level API (pg_backup_start / pg_backup_stop on one
// session), a copy of the data directory with a SHA-256 per file, and the table figures verify needs.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { isPgpressError, PgpressError } from '../errors/index.ts';
import { archiveCommand, archivingState, waitForArchived } from './archiving.ts';
import { copyHashed, FILES_AT_A_TIME, listDataDir, makeDirs, mapLimit, syncFileSystem } from './copyDataDir.ts';
import { baseDir, hashFile, writeManifest, type Manifest, type ManifestFile } from './manifest.ts';
import { figuresAtRestorePoint } from './tableFigures.ts';

/** What to back up and where. */
export interface BackupOptions {
  /** A superuser URL of the server; the server must run on this machine. */
  databaseUrl: string;
  backupDir: string;
  /** Called as bytes are copied (for a progress bar). */
  onProgress?: (copiedBytes: number, totalBytes: number) => void;
}

/** What a finished backup holds. */
export interface BackupSummary {
  id: string;
  dir: string;
  startLsn: string;
  stopLsn: string;
  startedAt: string;
  stoppedAt: string;
  files: number;
  bytes: number;
  restorePoint: string | null;
  tables: number;
  /** Set when the table figures could not be taken (verify then checks files and indexes only). */
  figuresSkipped?: string;
  durationMs: number;
}

function backupId(backupDir: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let id = stamp;
  for (let n = 2; existsSync(join(baseDir(backupDir), id)); n++) id = `${stamp}-${n}`;
  return id;
}

/** The server's data directory, if it is on this machine (same path, same running postmaster port). */
function localDataDir(dataDirectory: string, port: string): string {
  const pidFile = join(dataDirectory, 'postmaster.pid');
  let lines: string[] = [];
  try {
    lines = readFileSync(pidFile, 'utf8').split('\n');
  } catch {
    // not readable here
  }
  // Line 4 of postmaster.pid is the port: a same-named folder of another server does not count.
  if (lines[3]?.trim() !== port) {
    throw new PgpressError('PGP_BACKUP_FAILED', `The server's data directory ${dataDirectory} is not on this machine (or this user cannot read ${pidFile}). The built-in backup copies the data directory, so run \`pgpress backup\` on the database server itself as root or the postgres OS user, or use pgBackRest there.`);
  }
  const spc = join(dataDirectory, 'pg_tblspc');
  if (existsSync(spc) && readdirSync(spc).length > 0) {
    throw new PgpressError('PGP_BACKUP_FAILED', `The server has tablespaces outside its data directory (${spc}); the built-in backup copies only the data directory. Use pgBackRest for this server.`);
  }
  return dataDirectory;
}

/** Takes one base backup into BACKUP_DIR/base/<id>; archiving into BACKUP_DIR must already be on. */
export async function takeBackup(opts: BackupOptions): Promise<BackupSummary> {
  const t0 = Date.now();
  const backupDir = resolve(opts.backupDir);
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  client.on('error', () => undefined); // a lost connection rejects the query in flight
  await client.connect();
  let dir: string | undefined;
  let started = false;
  try {
    const { rows: [info] } = await client.query<{ datadir: string; port: string; major: string; sysid: string; db: string; usr: string; su: boolean }>(
      `SELECT current_setting('data_directory') AS datadir, current_setting('port') AS port,
              (current_setting('server_version_num')::int / 10000)::text AS major,
              (SELECT system_identifier::text FROM pg_control_system()) AS sysid,
              current_database() AS db, current_user AS usr,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su`);
    if (!info!.su) throw new PgpressError('PGP_BACKUP_FAILED', `The backup needs a superuser connection (${info!.usr} is not one): set DATABASE_URL to a superuser of the server.`);
    if (Number(info!.major) < 15) throw new PgpressError('PGP_BACKUP_FAILED', `The built-in backup needs PostgreSQL 15 or later (pg_backup_start); this server is ${info!.major}.`);
    const dataDir = localDataDir(info!.datadir, info!.port);
    const arch = await archivingState(client, backupDir);
    if (!arch.active) {
      throw new PgpressError('PGP_BACKUP_FAILED', `WAL archiving into ${backupDir} is not on (archive_mode = ${arch.archiveMode}, archive_command = ${arch.archiveCommand || "''"}; pgpress needs ${archiveCommand(backupDir)}). \`pgpress backup\` sets it up; archive_mode needs a server restart.`);
    }
    // Archiving must work before a backup relies on it (pg_backup_stop would wait forever).
    await waitForArchived(opts.databaseUrl, 60_000);

    const startedAt = new Date();
    const id = backupId(backupDir, startedAt);
    dir = join(baseDir(backupDir), id);
    const dataOut = join(dir, 'data');
    mkdirSync(dataOut, { recursive: true, mode: 0o700 });

    const { rows: [start] } = await client.query<{ lsn: string; tli: string }>(
      "SELECT pg_backup_start($1, true)::text AS lsn, (SELECT timeline_id::text FROM pg_control_checkpoint()) AS tli", [`pgpress ${id}`]);
    started = true;
    const { files: sources, dirs } = listDataDir(dataDir);
    makeDirs(dataOut, dirs);
    const total = sources.reduce((n, f) => n + f.size, 0);
    let copied = 0;
    const buffers = Array.from({ length: FILES_AT_A_TIME }, () => Buffer.allocUnsafe(1 << 20));
    const copies = await mapLimit(sources, FILES_AT_A_TIME, (f, worker) => copyHashed(join(dataDir, f.path), join(dataOut, f.path), (n) => {
      copied += n;
      opts.onProgress?.(copied, Math.max(total, copied));
    }, buffers[worker]));
    const files: ManifestFile[] = sources.flatMap((f, i) => (copies[i] ? [{ path: f.path, ...copies[i] }] : []));
    syncFileSystem(dataOut);
    // wait_for_archive: returns once the WAL this backup needs is in the archive.
    const { rows: [stop] } = await client.query<{ lsn: string; labelfile: string; spcmapfile: string }>(
      'SELECT lsn::text AS lsn, labelfile, spcmapfile FROM pg_backup_stop(true)');
    started = false;
    const stoppedAt = new Date();
    for (const [name, text] of [['backup_label', stop!.labelfile], ['tablespace_map', stop!.spcmapfile]] as const) {
      if (!text) continue;
      writeFileSync(join(dataOut, name), text);
      files.push({ path: name, size: Buffer.byteLength(text), sha256: await hashFile(join(dataOut, name)) });
    }

    let figures: Manifest['figures'] = null;
    let restorePoint: string | null = null;
    let figuresSkipped: string | undefined;
    try {
      const at = await figuresAtRestorePoint(opts.databaseUrl, `pgpress-backup-${id}`);
      figures = at.figures;
      restorePoint = at.restorePoint;
      // The restore point's WAL must be in the archive for verify to reach it.
      await waitForArchived(opts.databaseUrl);
    } catch (e) {
      figuresSkipped = `table figures not taken: ${(e as Error).message}`;
    }

    const manifest: Manifest = {
      format: 1, id, tool: 'builtin', pgMajor: info!.major, systemIdentifier: info!.sysid, timeline: Number(start!.tli),
      startLsn: start!.lsn, stopLsn: stop!.lsn, startedAt: startedAt.toISOString(), stoppedAt: stoppedAt.toISOString(),
      database: info!.db, user: info!.usr, restorePoint, figures, ...(figuresSkipped ? { figuresSkipped } : {}), dirs, files,
    };
    writeManifest(dir, manifest);
    syncFileSystem(dir);
    return {
      id, dir, startLsn: manifest.startLsn, stopLsn: manifest.stopLsn, startedAt: manifest.startedAt, stoppedAt: manifest.stoppedAt,
      files: files.length, bytes: files.reduce((n, f) => n + f.size, 0), restorePoint, tables: figures?.length ?? 0,
      ...(figuresSkipped ? { figuresSkipped } : {}), durationMs: Date.now() - t0,
    };
  } catch (e) {
    // An unfinished backup must not leave its session in backup mode, nor a folder behind.
    if (started) await client.query('SELECT pg_backup_stop(false)').catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (isPgpressError(e)) throw e;
    throw new PgpressError('PGP_BACKUP_FAILED', `The backup${dir ? ` into ${dir}` : ''} failed: ${(e as Error).message}`, { cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}
