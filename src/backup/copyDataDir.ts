// Copying a live data directory between pg_backup_start and pg_backup_stop: which files to leave
// out (PostgreSQL's own base backup list), and a copy that hashes what it writes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, lstatSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

// Folders whose contents a base backup skips (recreated empty): WAL comes from the archive,
// the rest is runtime state PostgreSQL rebuilds (see "Backing Up the Data Directory" in the docs).
const EMPTY_DIRS = new Set(['pg_wal', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans', 'pg_replslot']);
const SKIP_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map', 'backup_label.old', 'current_logfiles', 'postgresql.auto.conf.tmp', 'pg_internal.init', 'backup_manifest']);

/** A file to copy and its size when listed. */
export interface SourceFile {
  path: string;
  size: number;
}

/** The files and folders of a data directory a base backup holds (relative paths). */
export function listDataDir(root: string): { files: SourceFile[]; dirs: string[] } {
  const files: SourceFile[] = [];
  const dirs: string[] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(join(root, rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // dropped meanwhile
      throw e;
    }
    for (const name of names) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      let st;
      try {
        st = lstatSync(join(root, relPath));
      } catch {
        continue; // removed meanwhile (a dropped relation): WAL replay accounts for it
      }
      if (st.isDirectory()) {
        if (name.startsWith('pgsql_tmp')) continue;
        dirs.push(relPath);
        if (rel === '' && EMPTY_DIRS.has(name)) continue;
        walk(relPath);
      } else if (st.isFile()) {
        if (SKIP_FILES.has(name) || name.startsWith('pgsql_tmp') || /^t\d+_\d+/.test(name)) continue;
        files.push({ path: relPath, size: st.size });
      }
    }
  };
  walk('');
  return { files, dirs };
}

/** Runs fn over items, `limit` at a time, and returns the results in the items' order. A data
 *  directory is ~1,000 small files: one at a time, each file's six file system calls wait their turn
 *  in libuv's thread pool and the copy takes seconds; eight at a time keep the pool busy. After a
 *  call fails no other starts, and the first failure is thrown once the running ones have ended
 *  (so a caller's clean-up never races a copy still writing). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, worker: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const workers = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, async (_, worker) => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, worker);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  }));
  const failure = workers.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  if (failure) throw failure.reason;
  return out;
}

/** How many files a backup copies, restores or hashes at a time (mapLimit). */
export const FILES_AT_A_TIME = 8;

/** Copies one file, hashing the bytes it writes; undefined when the file vanished (callers sync the
 *  whole file system once at the end: one fsync per file costs seconds on a small cluster). buf is
 *  the copy's buffer (one per concurrent copy: a new 1 MiB one per file kept the collector busy). */
export async function copyHashed(src: string, dest: string, onBytes: (n: number) => void, buf: Buffer = Buffer.allocUnsafe(1 << 20)): Promise<{ size: number; sha256: string } | undefined> {
  let input;
  try {
    input = await open(src, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const output = await open(dest, 'wx', 0o600);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      await output.write(chunk);
      size += bytesRead;
      onBytes(bytesRead);
    }
  } finally {
    await input.close();
    await output.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/** Flushes the file system holding dir to disk (syncfs via `sync -f`). */
export function syncFileSystem(dir: string): void {
  const r = spawnSync('sync', ['-f', dir], { stdio: 'ignore' });
  if (r.status !== 0) spawnSync('sync', [], { stdio: 'ignore' });
}

/** Makes every listed folder below root. */
export function makeDirs(root: string, dirs: string[]): void {
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true, mode: 0o700 });
}
