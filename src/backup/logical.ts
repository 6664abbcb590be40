// Logical export and import for moving data between servers: pg_dump -Fc and pg_restore, when
// installed (the embedded default ships neither); otherwise a refusal with the install command.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { findProgram, runProgram } from './pgBinaries.ts';

async function serverMajor(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: [r] } = await client.query<{ major: string }>("SELECT (current_setting('server_version_num')::int / 10000)::text AS major");
    return r!.major;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The URL without its password, and the password for PGPASSWORD (never on a command line others can read). */
function splitPassword(databaseUrl: string): { url: string; env: NodeJS.ProcessEnv } {
  const u = new URL(databaseUrl);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), env: password ? { ...process.env, PGPASSWORD: password } : { ...process.env } };
}

/** pg_dump -Fc of the database into file. */
export async function dumpDatabase(opts: { databaseUrl: string; file: string; pgBindir?: string }): Promise<{ file: string; bytes: number }> {
  const pgDump = findProgram('pg_dump', await serverMajor(opts.databaseUrl), opts.pgBindir);
  const file = resolve(opts.file);
  const { url, env } = splitPassword(opts.databaseUrl);
  try {
    await runProgram(pgDump, ['--format=custom', '--no-password', `--file=${file}`, `--dbname=${url}`], { asOwner: false, env, cwd: process.cwd() });
  } catch (e) {
    throw new PgpressError('PGP_DB_ERROR', `pg_dump failed: ${(e as Error).message}`, { cause: e });
  }
  return { file, bytes: statSync(file).size };
}

/** pg_restore of a pg_dump -Fc file into the database, in one transaction (all or nothing). */
export async function loadDatabase(opts: { databaseUrl: string; file: string; clean?: boolean; pgBindir?: string }): Promise<void> {
  const pgRestore = findProgram('pg_restore', await serverMajor(opts.databaseUrl), opts.pgBindir);
  const { url, env } = splitPassword(opts.databaseUrl);
  const args = ['--no-password', '--no-owner', '--exit-on-error', '--single-transaction', ...(opts.clean ? ['--clean', '--if-exists'] : []), `--dbname=${url}`, resolve(opts.file)];
  try {
    await runProgram(pgRestore, args, { asOwner: false, env, cwd: process.cwd() });
  } catch (e) {
    throw new PgpressError('PGP_DB_ERROR', `pg_restore failed (nothing was loaded: it runs in one transaction): ${(e as Error).message}`, { cause: e });
  }
}
