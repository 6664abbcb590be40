// Where the embedded server keeps its cluster: ./.pgpress/pg, or — when pgpress runs as root below
// a folder the `postgres` OS user cannot enter (such as /root) — a folder under /var/lib/pgpress
// that .pgpress/pg links to, so no permission of the user's folders has to change.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PgpressError } from '../errors/index.ts';

/** The OS user PostgreSQL runs as when pgpress runs as root. */
export interface Owner {
  uid: number;
  gid: number;
}

/** The cluster's data directory and server log. */
export interface ServerPaths {
  pgdata: string;
  logFile: string;
}

/** Parent of relocated clusters (one folder per pgpress data directory, named by its path's hash). */
export const RELOCATED_ROOT = '/var/lib/pgpress';

function reachable(dir: string, owner: Owner): boolean {
  // `cd` as the server's user: every ancestor must be traversable.
  return spawnSync('sh', ['-c', 'cd "$1"', 'sh', dir], { uid: owner.uid, gid: owner.gid, stdio: 'ignore' }).status === 0;
}

/** Picks the data directory for the data root; warns once when it has to relocate it. */
export function serverPaths(root: string, owner: Owner | undefined, warn: (m: string) => void): ServerPaths {
  const local = { pgdata: join(root, 'pg'), logFile: join(root, 'postgres.log') };
  if (!owner || reachable(root, owner)) return local;
  const home = join(RELOCATED_ROOT, createHash('sha256').update(root).digest('hex').slice(0, 16));
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownSync(RELOCATED_ROOT, owner.uid, owner.gid);
  chownSync(home, owner.uid, owner.gid);
  const pgdata = join(home, 'pg');
  const link = local.pgdata;
  if (!existsSync(link) && !isSymlink(link)) symlinkSync(pgdata, link);
  else if (!isSymlink(link) || readlinkSync(link) !== pgdata) {
    throw new PgpressError('PGP_EMBEDDED_START_FAILED', `${link} exists, but the postgres OS user cannot reach ${root}; move it away or set PGPRESS_DATA_DIR to a folder the postgres user can enter.`);
  }
  warn(`the postgres OS user cannot enter ${root}: the cluster lives in ${pgdata} (linked from ${link})`);
  return { pgdata, logFile: join(home, 'postgres.log') };
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
