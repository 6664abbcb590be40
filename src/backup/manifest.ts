// A base backup's manifest (BACKUP_DIR/base/<id>/manifest.json): what was copied with its SHA-256,
// where the backup starts and becomes consistent, and the table figures verify compares.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PgpressError } from '../errors/index.ts';
import { FILES_AT_A_TIME, mapLimit } from './copyDataDir.ts';

/** One copied file, relative to the data directory. */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

/** Row count and order-independent content hash of one table at the restore point. */
export interface TableFigure {
  table: string;
  rows: number;
  hash: string;
}

/** Everything known about one base backup. */
export interface Manifest {
  format: 1;
  id: string;
  tool: 'builtin';
  pgMajor: string;
  systemIdentifier: string;
  timeline: number;
  startLsn: string;
  stopLsn: string;
  startedAt: string;
  stoppedAt: string;
  /** Database and user the figures were taken with (verify connects to the same). */
  database: string;
  user: string;
  /** Named restore point written while the tables were locked for the figures (verify's target). */
  restorePoint: string | null;
  figures: TableFigure[] | null;
  /** Why figures are missing (tables stayed locked by writers, say). */
  figuresSkipped?: string;
  /** Folders to create even when empty (pg_wal, pg_notify, …). */
  dirs: string[];
  files: ManifestFile[];
}

/** Folder holding base backups. */
export function baseDir(backupDir: string): string {
  return join(resolve(backupDir), 'base');
}

/** Writes manifest.json atomically (temp + rename): a backup without it is incomplete and ignored. */
export function writeManifest(dir: string, m: Manifest): void {
  const tmp = join(dir, 'manifest.json.tmp');
  writeFileSync(tmp, `${JSON.stringify(m, null, 1)}\n`);
  renameSync(tmp, join(dir, 'manifest.json'));
}

/** Complete backups (those with a manifest), oldest first. */
export function listBackups(backupDir: string): Manifest[] {
  const base = baseDir(backupDir);
  if (!existsSync(base)) return [];
  const out: Manifest[] = [];
  for (const id of readdirSync(base).sort()) {
    const file = join(base, id, 'manifest.json');
    if (!existsSync(file)) continue;
    out.push(JSON.parse(readFileSync(file, 'utf8')) as Manifest);
  }
  return out.sort((a, b) => a.stoppedAt.localeCompare(b.stoppedAt));
}

/** The newest backup that became consistent before `to` (or the newest of all for 'latest'). */
export function pickBackup(backupDir: string, to: Date | 'latest', id?: string): Manifest {
  const all = listBackups(backupDir);
  if (id !== undefined) {
    const m = all.find((b) => b.id === id);
    if (!m) throw new PgpressError('PGP_RESTORE_FAILED', `No complete backup ${id} in ${baseDir(backupDir)} (have: ${all.map((b) => b.id).join(', ') || 'none'}).`);
    return m;
  }
  if (all.length === 0) throw new PgpressError('PGP_RESTORE_FAILED', `No complete base backup in ${baseDir(backupDir)}: run \`pgpress backup\` first.`);
  const fit = to === 'latest' ? all : all.filter((b) => Date.parse(b.stoppedAt) <= to.getTime());
  const m = fit[fit.length - 1];
  if (!m) {
    throw new PgpressError('PGP_RESTORE_FAILED', `No base backup ended before ${(to as Date).toISOString()}; the oldest ended at ${all[0]!.stoppedAt}. Pick a later time.`);
  }
  return m;
}

/** SHA-256 of a file (hex). */
export function hashFile(file: string): Promise<string> {
  return new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', fail)
      .on('end', () => ok(h.digest('hex')));
  });
}

/** Files of the backup that are missing, truncated or changed, each with what is wrong. */
export async function checkFiles(backupDir: string, m: Manifest): Promise<string[]> {
  const data = join(baseDir(backupDir), m.id, 'data');
  const found = await mapLimit(m.files, FILES_AT_A_TIME, async (f): Promise<string | undefined> => {
    const file = join(data, f.path);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return `${f.path} (missing)`;
    }
    if (size !== f.size) return `${f.path} (size ${size}, manifest says ${f.size}${size < f.size ? ': truncated' : ''})`;
    if ((await hashFile(file)) !== f.sha256) return `${f.path} (changed: SHA-256 differs from the manifest)`;
    return undefined;
  });
  return found.filter((b): b is string => b !== undefined);
}
