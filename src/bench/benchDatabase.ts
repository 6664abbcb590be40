// A migrated scratch database for a benchmark, dropped afterwards (and on an aborted run). It is
// created on the admin server: `pgpress bench` sets it (BENCH_DATABASE_URL, DATABASE_URL or the
// embedded server); `npm run bench` uses BENCH_DATABASE_URL or TEST_DATABASE_URL.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PACKAGE_MIGRATIONS_DIR } from '../config/packagePaths.ts';
import { quoteIdent } from '../db/sql.ts';
import { migrate } from '../migrate/index.ts';
import { onAbort } from './lifecycle.ts';
import { recordOp } from './timeline.ts';

let adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// The test suite sets pgpress_t_<runner pid>_bench_, so the harness's sweep of dead runs removes
// a database that a killed run could not drop itself.
const PREFIX = process.env.BENCH_DATABASE_PREFIX ?? 'pgpress_bench_';
// A migrated database on the admin server to clone instead of migrating an empty one (the test
// suite sets its run's template: ~0.3 s a clone against ~2.7 s for the migrations); migrate()
// still runs on the clone, so a template that lacks a migration gets it, one that differs fails.
const TEMPLATE = process.env.BENCH_DATABASE_TEMPLATE;
const live = new Set<string>();

/** The server scratch databases are created on (a URL whose user may CREATE DATABASE). */
export function benchAdminUrl(): string {
  return adminUrl;
}

/** Sets the server scratch databases are created on. */
export function setBenchAdminUrl(url: string): void {
  adminUrl = url;
}

/** Names of the scratch databases that exist now (the sampler counts their connections). */
export function liveBenchDatabases(): string[] {
  return [...live];
}

async function admin(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** A database URL on the admin server with another database name. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates (a clone of BENCH_DATABASE_TEMPLATE when set) and migrates a database; `drop` removes it. */
export async function benchDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  if (!/^[a-z0-9_]{1,40}$/.test(PREFIX)) throw new Error(`BENCH_DATABASE_PREFIX must be lower-case letters, digits and _ (got ${JSON.stringify(PREFIX)})`);
  if (TEMPLATE !== undefined && !/^[a-z0-9_]{1,63}$/.test(TEMPLATE)) throw new Error(`BENCH_DATABASE_TEMPLATE must be lower-case letters, digits and _ (got ${JSON.stringify(TEMPLATE)})`);
  const name = `${PREFIX}${randomBytes(4).toString('hex')}`;
  const drop = async (): Promise<void> => {
    live.delete(name);
    await admin(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  };
  await admin(`CREATE DATABASE ${quoteIdent(name)}${TEMPLATE ? ` TEMPLATE ${quoteIdent(TEMPLATE)}` : ''}`);
  live.add(name);
  const unregister = onAbort(drop);
  console.log(`database ${name}`);
  const url = withDatabase(adminUrl, name);
  try {
    await migrate({ url, dir: PACKAGE_MIGRATIONS_DIR });
  } catch (e) {
    await drop();
    unregister();
    throw e;
  }
  return {
    name,
    url,
    drop: async () => {
      await drop();
      unregister();
    },
  };
}

/** Runs fn with `callers` concurrent loops for ms milliseconds; returns operations per second.
 *  Each operation is recorded in the active timeline (the report's throughput and latency). */
export async function throughput(callers: number, ms: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await fn(done);
        recordOp(performance.now() - t);
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}
