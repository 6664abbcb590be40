// Point-in-time restore: the newest base backup before the target, its files checked against the
// manifest while they are copied, archived WAL replayed up to the target, then the server promoted.
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { isPgpressError, PgpressError } from '../errors/index.ts';
import { restoreCommand } from './archiving.ts';
import { copyHashed, FILES_AT_A_TIME, makeDirs, mapLimit, syncFileSystem } from './copyDataDir.ts';
import { baseDir, pickBackup, type Manifest } from './manifest.ts';
import { assertServerCanEnter, findProgram, pgOwner, runProgram } from './pgBinaries.ts';

/** Where to restore and to what moment. */
export interface RestoreOptions {
  backupDir: string;
  /** A moment (recovery_target_time: commits up to it are kept) or 'latest' (all archived WAL). */
  to: Date | 'latest';
  /** The new data directory: must not exist or be empty. */
  targetDir: string;
  /** The restored server listens on 127.0.0.1:port. */
  port: number;
  /** Folder of pg_ctl/postgres of the backup's major version (default: found, see pgBinaries.ts). */
  pgBindir?: string;
  /** Extra postgresql.conf settings for the restored server. */
  settings?: Record<string, string>;
  /** Restore this backup instead of the newest one before `to`. */
  backupId?: string;
  /** Stop at this named restore point instead of a time (verify). */
  restorePoint?: string;
  /** Password of the backup's user (the source's; the restored server keeps its roles and pg_hba). */
  password?: string;
  /** Let anyone on 127.0.0.1 in without a password (verify's throwaway cluster). */
  trustLocal?: boolean;
  /** How long recovery may take (default 10 minutes). */
  timeoutMs?: number;
}

/** A restored, promoted server. */
export interface RestoredServer {
  /** postgres://<backup's user>[:password]@127.0.0.1:<port>/<backup's database>. */
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  backupId: string;
  /** The built-in backup's manifest (absent for pgBackRest). */
  manifest?: Manifest;
  /** Last WAL position replayed. */
  recoveredTo: string;
  durationMs: number;
  /** pg_ctl stop -m fast. */
  stop(): Promise<void>;
}

function confValue(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function postmasterAlive(dataDir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Copies the backup's files into target, checking each against the manifest; returns the bad ones. */
async function copyBackup(backupDir: string, m: Manifest, target: string): Promise<string[]> {
  const from = join(baseDir(backupDir), m.id, 'data');
  makeDirs(target, [...m.dirs, 'pg_wal/archive_status']);
  const buffers = Array.from({ length: FILES_AT_A_TIME }, () => Buffer.allocUnsafe(1 << 20));
  const copies = await mapLimit(m.files, FILES_AT_A_TIME, (f, worker) => copyHashed(join(from, f.path), join(target, f.path), () => undefined, buffers[worker]));
  const bad: string[] = [];
  m.files.forEach((f, i) => {
    const r = copies[i];
    if (!r) bad.push(`${f.path} (missing)`);
    else if (r.size !== f.size) bad.push(`${f.path} (size ${r.size}, manifest says ${f.size}${r.size < f.size ? ': truncated' : ''})`);
    else if (r.sha256 !== f.sha256) bad.push(`${f.path} (changed: SHA-256 differs from the manifest)`);
  });
  return bad;
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

/** Restores a base backup into targetDir and replays archived WAL to the target; resolves once promoted. */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoredServer> {
  const t0 = Date.now();
  const backupDir = resolve(opts.backupDir);
  const target = resolve(opts.targetDir);
  const m = pickBackup(backupDir, opts.to, opts.backupId);
  const pgCtl = findProgram('pg_ctl', m.pgMajor, opts.pgBindir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new PgpressError('PGP_RESTORE_FAILED', `The restore target ${target} is not empty; give a new or empty folder.`);
  }
  mkdirSync(target, { recursive: true, mode: 0o700 });
  try {
    // The target itself becomes the server's (chowned below); its parents must let that user through.
    assertServerCanEnter(dirname(target), 'the folder of the restore target');
  } catch (e) {
    rmSync(target, { recursive: true, force: true });
    throw new PgpressError('PGP_RESTORE_FAILED', (e as Error).message);
  }
  const bad = await copyBackup(backupDir, m, target);
  syncFileSystem(target);
  if (bad.length > 0) {
    rmSync(target, { recursive: true, force: true });
    throw new PgpressError('PGP_BACKUP_CORRUPT', `Backup ${m.id} is damaged, nothing was restored: ${bad.join('; ')}.`, { details: { backupId: m.id, badFiles: bad } });
  }

  const recovery: Record<string, string> = { restore_command: restoreCommand(backupDir), recovery_target_action: 'promote' };
  if (opts.restorePoint !== undefined) recovery.recovery_target_name = opts.restorePoint;
  else if (opts.to !== 'latest') recovery.recovery_target_time = pgTime(opts.to);
  writeFileSync(join(target, 'recovery.signal'), '');
  const started = await startRecovery({
    target, pgCtl, port: opts.port, settings: { ...recovery, ...opts.settings }, trustLocal: opts.trustLocal, label: `backup ${m.id}`,
    user: m.user, database: m.database, password: opts.password, timeoutMs: opts.timeoutMs,
  });
  return { ...started, port: opts.port, dataDir: target, backupId: m.id, manifest: m, durationMs: Date.now() - t0 };
}

/** A time as PostgreSQL's recovery_target_time reads it. */
export function pgTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '+00');
}

/** How to start a restored data directory. */
export interface RecoveryStart {
  target: string;
  pgCtl: string;
  port: number;
  /** Recovery settings (restore_command, targets) and any others; they win over the source's. */
  settings: Record<string, string>;
  trustLocal?: boolean | undefined;
  /** For the comment in postgresql.auto.conf. */
  label: string;
  user: string;
  database: string;
  password?: string | undefined;
  timeoutMs?: number | undefined;
}

/** Writes the restored copy's settings, starts it with pg_ctl and waits until it is promoted. */
export async function startRecovery(o: RecoveryStart): Promise<{ url: string; logFile: string; recoveredTo: string; stop: () => Promise<void> }> {
  const { target, pgCtl } = o;
  const base: Record<string, string> = {
    port: String(o.port),
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    // A restored copy must never archive into the source's archive (its new timeline would be
    // followed by later restores).
    archive_mode: 'off',
    hot_standby: 'on',
    recovery_target_timeline: 'current',
  };
  const lines = Object.entries({ ...base, ...o.settings }).map(([k, v]) => {
    if (!/^[a-z_.]+$/i.test(k)) throw new PgpressError('PGP_RESTORE_FAILED', `Bad setting name ${JSON.stringify(k)}.`);
    return `${k} = ${confValue(v)}`;
  });
  // postgresql.auto.conf is read last: these win over the source's settings.
  appendFileSync(join(target, 'postgresql.auto.conf'), `\n# pgpress restore of ${o.label}\n${lines.join('\n')}\n`);
  if (o.trustLocal) {
    const hba = join(target, 'pg_hba.conf');
    writeFileSync(hba, `host all all 127.0.0.1/32 trust\n${existsSync(hba) ? readFileSync(hba, 'utf8') : ''}`);
  }
  const logFile = join(target, 'pgpress-restore.log');
  const owner = pgOwner();
  if (owner) chownTree(target, owner.uid, owner.gid);

  const stop = async (): Promise<void> => {
    if (!postmasterAlive(target)) return;
    await runProgram(pgCtl, ['stop', '-D', target, '-m', 'fast', '-w', '-t', '120']);
  };
  try {
    // -w: returns once the server accepts connections (hot standby: once consistent), fails if it exits.
    const timeoutMs = o.timeoutMs ?? 600_000;
    await runProgram(pgCtl, ['start', '-D', target, '-l', logFile, '-w', '-t', String(Math.ceil(timeoutMs / 1000))]);
    const auth = o.password === undefined ? '' : `:${encodeURIComponent(o.password)}`;
    const url = `postgres://${encodeURIComponent(o.user)}${auth}@127.0.0.1:${o.port}/${encodeURIComponent(o.database)}`;
    const recoveredTo = await waitForPromotion(target, url, logFile, timeoutMs);
    return { url, logFile, recoveredTo, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    if (isPgpressError(e)) throw e;
    throw new PgpressError('PGP_RESTORE_FAILED', `The restored server in ${target} did not come up: ${(e as Error).message}\n--- tail of ${logFile} ---\n${tail(logFile)}`, { cause: e });
  }
}

/** Polls until recovery has ended and the server accepts writes; fails at once if it exits. */
async function waitForPromotion(dataDir: string, url: string, logFile: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not started';
  for (;;) {
    // The postmaster exits on a recovery error (a target never reached, a missing segment).
    if (!postmasterAlive(dataDir)) throw new PgpressError('PGP_RESTORE_FAILED', `The restored server stopped during recovery.\n--- tail of ${logFile} ---\n${tail(logFile)}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows: [r] } = await client.query<{ rec: boolean; lsn: string | null }>('SELECT pg_is_in_recovery() AS rec, pg_last_wal_replay_lsn()::text AS lsn');
      if (!r!.rec) return r!.lsn ?? '';
      last = `in recovery, replayed up to ${r!.lsn ?? '?'}`;
    } catch (e) {
      last = (e as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new PgpressError('PGP_RESTORE_FAILED', `Recovery did not finish within ${Math.round(timeoutMs / 1000)} s (${last}).\n--- tail of ${logFile} ---\n${tail(logFile)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
