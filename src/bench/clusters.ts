// Throwaway PostgreSQL clusters (a primary plus streaming replicas) on loopback, started from the
// PostgreSQL programs on this machine: the replicas and tune scenarios of `pgpress bench` run on
// them, and the test suite's harness (test/harness/pgCluster.ts re-exports this file).
// Each cluster lives in its own os.tmpdir()/pgpress-cluster-* directory: one data dir and
// one log file per node, plus owner.pid (the node process that started it). The directory goes
// at destroy(), at the process's exit, and at an aborted bench run (src/bench/lifecycle.ts).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pgOwner as serverOwner } from '../backup/pgBinaries.ts';
import { freePort } from '../db/freePort.ts';
import { PgpressError } from '../errors/index.ts';
import { onAbort } from './lifecycle.ts';

/** One running PostgreSQL server of a throwaway cluster. */
export interface PgNode {
  name: string;
  port: number;
  dataDir: string;
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  role: 'primary' | 'replica';
  /** The server's log (stderr of the postmaster and its backends). */
  logFile: string;
  /** pg_ctl stop; 'immediate' simulates a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** pg_ctl start; resolves once the server accepts connections. */
  start(): Promise<void>;
  /** Sends a signal to the postmaster (pid read from postmaster.pid). */
  kill(signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void;
  /** Sends a signal to the postmaster and every process it forked: SIGSTOP freezes the whole
   *  server, SIGKILL is a crash (`kill -9` of all of it). */
  signalAll(signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void;
  /** Runs one statement on a short-lived connection and returns its rows. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers pick T; any keeps casual use terse
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** A streaming replica whose WAL replay can be paused. */
export interface PgReplica extends PgNode {
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  replayLsn(): Promise<string>;
}

/** A primary with its replicas, all in one temp dir. */
export interface TestCluster {
  primary: PgNode;
  replicas: PgReplica[];
  /** pg_current_wal_lsn() on the primary. */
  currentLsn(): Promise<string>;
  /** Waits until the replica has replayed lsn (default: the primary's current LSN). */
  waitForReplica(r: PgReplica, lsn?: string, timeoutMs?: number): Promise<void>;
  /** Stops every node (immediate) and removes the temp dir; idempotent. */
  destroy(): Promise<void>;
}

const PREFIX = 'pgpress-cluster-';
const live = new Set<string>(); // root dirs of this process's clusters

/** The major version pgpress is built and tested against: the Debian package named when none is found. */
const DEFAULT_MAJOR = '15';
/** The programs a cluster needs: the server's own (Debian postgresql-N) and pg_basebackup (postgresql-client-N) for replicas. */
const SERVER_PROGRAMS = ['initdb', 'pg_ctl', 'postgres'];

/** Folders that may hold PostgreSQL's server programs, best first: PG_BINDIR alone when set, else
 *  pg_config --bindir, then the newest /usr/lib/postgresql/N/bin (where Debian puts them). */
export function bindirCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.PG_BINDIR) return [env.PG_BINDIR];
  const dirs: string[] = [];
  try {
    dirs.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config: fall through
  }
  const base = '/usr/lib/postgresql';
  const majors = (fs.existsSync(base) ? fs.readdirSync(base) : []).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of majors) dirs.push(path.join(base, v, 'bin'));
  return dirs;
}

/** The major version a Debian-style folder is for (/usr/lib/postgresql/15/bin → "15"), else the default. */
function majorOf(dir: string | undefined): string {
  return /\/postgresql\/(\d+)\/bin\/?$/.exec(dir ?? '')?.[1] ?? DEFAULT_MAJOR;
}

/** The first candidate folder holding the server's programs, or a PGP_TOOL_MISSING error naming the Debian package. */
export function findBindir(env: NodeJS.ProcessEnv = process.env): string {
  const dirs = bindirCandidates(env);
  const found = dirs.find((d) => SERVER_PROGRAMS.every((p) => fs.existsSync(path.join(d, p))));
  if (found) return found;
  const major = majorOf(dirs[0]);
  const where = env.PG_BINDIR ? `PG_BINDIR=${env.PG_BINDIR}` : dirs.length > 0 ? dirs.join(', ') : 'no pg_config, nothing under /usr/lib/postgresql';
  throw new PgpressError(
    'PGP_TOOL_MISSING',
    `PostgreSQL's server programs (${SERVER_PROGRAMS.join(', ')}) are not installed (looked in ${where}); throwaway clusters (bench scenarios replicas and tune) start from them. ` +
      `Install them (apt-get install postgresql-${major}), or set PG_BINDIR to the folder holding them.`,
  );
}

let bindirCache: string | undefined;
/** The directory of the PostgreSQL server programs (see findBindir), found once. */
export function bindir(): string {
  return (bindirCache ??= findBindir());
}

/** The path of a program in bindir(); pg_basebackup and the other client programs name postgresql-client-N when missing. */
export function clusterProgram(name: string): string {
  const dir = bindir();
  const p = path.join(dir, name);
  if (fs.existsSync(p)) return p;
  const major = majorOf(dir);
  const pkg = SERVER_PROGRAMS.includes(name) ? `postgresql-${major}` : `postgresql-client-${major}`;
  throw new PgpressError('PGP_TOOL_MISSING', `${name} is not installed in ${dir}; a cluster with streaming replicas copies the primary with it. Install it (apt-get install ${pkg}), or set PG_BINDIR to a folder holding it.`);
}

/** The major version of the server programs in bindir() (from `pg_ctl --version`). */
export function clusterMajor(): number {
  const out = execFileSync(clusterProgram('pg_ctl'), ['--version'], { encoding: 'utf8' });
  const major = /\(PostgreSQL\) (\d+)/.exec(out)?.[1];
  if (!major) throw new Error(`pgCluster: cannot read a version from pg_ctl --version: ${out.trim()}`);
  return Number(major);
}

/** uid/gid to run PostgreSQL binaries as (postgres when we are root: PostgreSQL refuses to run as root). */
export function pgOwner(): { uid?: number; gid?: number } {
  return serverOwner() ?? {};
}

/** The last lines of a log file, or "(no log)". */
export function tailFile(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Runs a PostgreSQL binary; on failure rejects with its output and the tail of logFile. */
function run(bin: string, args: string[], cwd: string, logFile?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(clusterProgram(bin), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...pgOwner() });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => reject(new Error(`pgCluster: cannot run ${bin}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const log = logFile ? `\n--- tail of ${logFile} ---\n${tailFile(logFile)}` : '';
      reject(new Error(`pgCluster: ${bin} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.trim()}${log}`));
    });
  });
}

function readPid(dataDir: string): number {
  const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`pgCluster: bad postmaster.pid in ${dataDir}`);
  return pid;
}

// After kill('SIGKILL') the dead postmaster can linger as an unreaped zombie, which PostgreSQL
// mistakes for a running server; lock files (data dir, socket) naming a dead pid are safe to drop.
function removeStaleLockFiles(dataDir: string): void {
  for (const name of fs.existsSync(dataDir) ? fs.readdirSync(dataDir) : []) {
    if (name !== 'postmaster.pid' && !/^\.s\.PGSQL\.\d+\.lock$/.test(name)) continue;
    const file = path.join(dataDir, name);
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) fs.rmSync(file, { force: true });
  }
}

async function query<T>(url: string, sql: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // server went away mid-call: the query itself rejects
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => {});
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function appendConf(dataDir: string, settings: Record<string, string>): Promise<void> {
  const lines = Object.entries(settings).map(([k, v]) => {
    if (!/^[a-z_.]+$/i.test(k)) throw new Error(`pgCluster: bad setting name ${JSON.stringify(k)}`);
    return `${k} = '${v.replace(/'/g, "''")}'`;
  });
  await fsp.appendFile(path.join(dataDir, 'postgresql.conf'), `\n# pgCluster\n${lines.join('\n')}\n`);
}

/** pid and its children, found by parent pid in /proc. */
function processTree(pid: number): { pid: number; children: number[] } {
  const children = fs.readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
  return { pid, children };
}

// Stop the postmaster first (it would fork replacements), continue it last.
export function signalServer(postmaster: number, signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void {
  const { pid, children } = processTree(postmaster);
  for (const p of signal === 'SIGCONT' ? [...children, pid] : [pid, ...children]) {
    try {
      process.kill(p, signal);
    } catch {
      // exited meanwhile
    }
  }
}

function makeNode(root: string, name: string, port: number, role: 'primary' | 'replica'): PgNode {
  const dataDir = path.join(root, name);
  const logFile = path.join(root, `${name}.log`);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const pgCtl = (...args: string[]) => run('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', ...args], root, logFile);
  return {
    name, port, dataDir, url, role, logFile,
    stop: (mode = 'fast') => pgCtl('stop', '-m', mode),
    start: async () => {
      removeStaleLockFiles(dataDir);
      await pgCtl('start');
    },
    kill: (signal) => void process.kill(readPid(dataDir), signal),
    signalAll: (signal) => signalServer(readPid(dataDir), signal),
    query: (sql, params) => query(url, sql, params),
  };
}

function makeReplica(root: string, name: string, port: number): PgReplica {
  const node = makeNode(root, name, port, 'replica');
  return {
    ...node,
    async pauseReplay() {
      await node.query('SELECT pg_wal_replay_pause()');
      for (let i = 0; i < 600; i++) {
        const [row] = await node.query<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state');
        if (row?.state === 'paused') return;
        await sleep(50);
      }
      throw new Error(`pgCluster: replay on ${name} did not pause within 30s`);
    },
    async resumeReplay() {
      await node.query('SELECT pg_wal_replay_resume()');
    },
    async replayLsn() {
      const [row] = await node.query<{ lsn: string }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
      return row!.lsn;
    },
  };
}

/** Stops every postmaster under root (immediate, errors ignored) and removes root. */
function teardownSync(root: string): void {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(root);
  } catch {
    // already gone
  }
  for (const name of entries) {
    const dataDir = path.join(root, name);
    if (!fs.existsSync(path.join(dataDir, 'postmaster.pid'))) continue;
    try {
      process.kill(readPid(dataDir), 'SIGCONT'); // a SIGSTOPped postmaster could not shut down
    } catch {
      // not running
    }
    try {
      spawnSync(path.join(bindir(), 'pg_ctl'), ['-D', dataDir, '-w', '-t', '30', 'stop', '-m', 'immediate'],
        { cwd: root, stdio: 'ignore', ...pgOwner() });
    } catch {
      // best effort
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
  live.delete(root);
}

let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const root of [...live]) teardownSync(root);
  });
}

/** True if pid runs; zombies count as dead (orphans may linger unreaped under some init processes). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function ownerAlive(root: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(root, 'owner.pid'), 'utf8'));
  } catch {
    return false;
  }
  // Ours but not live means leaked; another live process's cluster is spared.
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid);
}

/** Stops and removes pgpress-cluster-* dirs left behind by dead processes (live clusters are spared). */
export function sweepStaleClusters(): void {
  const tmp = os.tmpdir();
  for (const entry of fs.readdirSync(tmp)) {
    const root = path.join(tmp, entry);
    if (!entry.startsWith(PREFIX) || live.has(root) || ownerAlive(root)) continue;
    teardownSync(root);
  }
}

/** initdb's arguments for a cluster's primary (after -D DIR). */
const INITDB_ARGS = ['-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'];

/** Runs initdb for a throwaway cluster into dataDir (its parent must be writable by pgOwner()):
 *  what startCluster runs for each primary, and what makes a PGPRESS_CLUSTER_TEMPLATE. */
export function initdbCluster(dataDir: string, cwd: string): Promise<void> {
  return run('initdb', ['-D', dataDir, ...INITDB_ARGS], cwd);
}

/** CRC-32C (Castagnoli) of buf up to each offset, as PostgreSQL checksums pg_control with; yields [offset, crc]. */
function* crc32cPrefixes(buf: Buffer): Generator<[number, number]> {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) {
    yield [i, (c ^ 0xffffffff) >>> 0];
    c ^= buf[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  }
}

/** Gives a copied data directory a system identifier of its own, as initdb would: pg_control's
 *  first field (its CRC-32C, which follows the fields it covers, recomputed) and the long header of
 *  each WAL segment (bytes 24-31). Copies would share one otherwise, and the cache's namespace and a
 *  backup's manifest tell clusters apart by it. */
function newSystemIdentifier(dataDir: string): void {
  const controlFile = path.join(dataDir, 'global', 'pg_control');
  const control = fs.readFileSync(controlFile);
  const old = control.readBigUInt64LE(0);
  // The CRC's offset differs between majors: it is the one where the stored value is the CRC of what precedes it.
  let crcAt = -1;
  for (const [i, crc] of crc32cPrefixes(control.subarray(0, 1024))) {
    if (i >= 8 && i % 4 === 0 && control.readUInt32LE(i) === crc) {
      crcAt = i;
      break;
    }
  }
  if (crcAt < 0) throw new Error(`pgCluster: no CRC found in ${controlFile}: not a pg_control file`);
  // initdb's recipe: seconds in the high half; the low half random here (initdb's has microseconds and its pid).
  const sysid = (BigInt(Math.floor(Date.now() / 1000)) << 32n) | BigInt(randomBytes(4).readUInt32LE(0));
  control.writeBigUInt64LE(sysid, 0);
  let crc = 0;
  for (const [i, c] of crc32cPrefixes(control.subarray(0, crcAt + 1))) if (i === crcAt) crc = c;
  control.writeUInt32LE(crc, crcAt);
  const walDir = path.join(dataDir, 'pg_wal');
  for (const name of fs.readdirSync(walDir).filter((n) => /^[0-9A-F]{24}$/.test(n))) {
    const fd = fs.openSync(path.join(walDir, name), 'r+');
    try {
      const header = Buffer.alloc(32);
      fs.readSync(fd, header, 0, 32, 0);
      if (header.readBigUInt64LE(24) !== old) throw new Error(`pgCluster: ${name} in ${walDir} is not from the system in ${controlFile}`);
      header.writeBigUInt64LE(sysid, 24);
      fs.writeSync(fd, header, 24, 8, 24);
    } finally {
      fs.closeSync(fd);
    }
  }
  fs.writeFileSync(controlFile, control);
}

/** A fresh primary's data directory: initdb, or, when PGPRESS_CLUSTER_TEMPLATE names a data
 *  directory that initdbCluster made with these programs (the test suite makes one per run; see
 *  test/harness/globalSetup.ts) and that no server runs on, a copy of it (`cp -a`, owner and modes
 *  kept) with a system identifier of its own: what initdb would write, in ~0.1 s instead of ~1.6 s of CPU. */
async function initdbOrCopy(dataDir: string, root: string): Promise<void> {
  const template = process.env.PGPRESS_CLUSTER_TEMPLATE;
  if (!template) return initdbCluster(dataDir, root);
  if (!fs.existsSync(path.join(template, 'PG_VERSION')) || fs.existsSync(path.join(template, 'postmaster.pid'))) {
    throw new Error(`pgCluster: PGPRESS_CLUSTER_TEMPLATE=${template} is not a stopped data directory made by initdb (no PG_VERSION, or a postmaster.pid)`);
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn('cp', ['-a', template, dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new Error(`pgCluster: cannot run cp: ${e.message}`)));
    child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`pgCluster: cp -a ${template} ${dataDir} failed (${signal ?? `exit ${code}`}): ${err.trim()}`))));
  });
  newSystemIdentifier(dataDir);
}

/** Starts a primary and opts.replicas streaming replicas (default 0) in a fresh temp dir. */
export async function startCluster(opts: { replicas?: number; settings?: Record<string, string> } = {}): Promise<TestCluster> {
  // Missing programs fail here, before anything is made, with the package to install.
  for (const p of ['initdb', 'pg_ctl', ...((opts.replicas ?? 0) > 0 ? ['pg_basebackup'] : [])]) clusterProgram(p);
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), PREFIX));
  live.add(root);
  hookExit();
  await fsp.writeFile(path.join(root, 'owner.pid'), String(process.pid));
  const { uid, gid } = pgOwner();
  if (uid !== undefined && gid !== undefined) await fsp.chown(root, uid, gid);

  const nodes: PgNode[] = [];
  let destroying: Promise<void> | undefined;
  // An aborted bench run (SIGINT, SIGTERM, its parent gone) stops the servers and removes the dir.
  const unregister = onAbort(() => destroy());
  const destroy = () =>
    (destroying ??= (async () => {
      unregister();
      for (const node of nodes) {
        if (!fs.existsSync(path.join(node.dataDir, 'postmaster.pid'))) continue;
        try {
          node.kill('SIGCONT');
        } catch {
          // not running
        }
        await node.stop('immediate').catch(() => {});
      }
      await fsp.rm(root, { recursive: true, force: true });
      live.delete(root);
    })());

  try {
    const primary = makeNode(root, 'primary', await freePort(), 'primary');
    await initdbOrCopy(primary.dataDir, root);
    await appendConf(primary.dataDir, {
      listen_addresses: '127.0.0.1',
      port: String(primary.port),
      unix_socket_directories: primary.dataDir,
      shared_buffers: '32MB',
      max_connections: '100',
      wal_level: 'replica',
      max_wal_senders: '10',
      hot_standby: 'on',
      wal_keep_size: '64MB',
      wal_retrieve_retry_interval: '200ms', // replicas reconnect quickly after a primary restart
      ...opts.settings,
    });
    nodes.push(primary);
    await primary.start();

    const replicas: PgReplica[] = [];
    for (let i = 1; i <= (opts.replicas ?? 0); i++) {
      const replica = makeReplica(root, `replica${i}`, await freePort());
      await run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', replica.dataDir,
        '-X', 'stream', '-R', '-c', 'fast'], root, path.join(root, 'primary.log'));
      await appendConf(replica.dataDir, { port: String(replica.port), unix_socket_directories: replica.dataDir });
      nodes.push(replica);
      replicas.push(replica);
      await replica.start();
    }

    const currentLsn = async () => {
      const [row] = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      return row!.lsn;
    };

    const waitForReplica = async (r: PgReplica, lsn?: string, timeoutMs = 30_000) => {
      const target = lsn ?? (await currentLsn());
      const deadline = Date.now() + timeoutMs;
      let last = 'unknown';
      for (;;) {
        try {
          const [row] = await r.query<{ ok: boolean; lsn: string | null }>(
            'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok, pg_last_wal_replay_lsn()::text AS lsn', [target]);
          if (row?.ok) return;
          last = `replayed up to ${row?.lsn ?? 'nothing'}`;
        } catch (err) {
          last = `query failed: ${(err as Error).message}`;
        }
        if (Date.now() >= deadline) {
          throw new Error(`pgCluster: ${r.name} did not replay up to ${target} within ${timeoutMs}ms (${last})\n` +
            `--- tail of ${r.name}.log ---\n${tailFile(path.join(root, `${r.name}.log`))}`);
        }
        await sleep(50);
      }
    };

    return { primary, replicas, currentLsn, waitForReplica, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}
