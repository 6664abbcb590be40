// A migrated scratch database for a benchmark, dropped afterwards (and on an aborted run).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdent } from '../src/db/sql.ts';
import { migrate } from '../src/migrate/index.ts';
import { onAbort } from './lifecycle.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// The test suite sets pgpress_t_<runner pid>_bench_, so the harness's sweep of dead runs removes
// a database that a killed run could not drop itself.
const PREFIX = process.env.BENCH_DATABASE_PREFIX ?? 'pgpress_bench_';

async function admin(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** Creates and migrates a database; `drop` removes it. */
export async function benchDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  if (!/^[a-z0-9_]{1,40}$/.test(PREFIX)) throw new Error(`BENCH_DATABASE_PREFIX must be lower-case letters, digits and _ (got ${JSON.stringify(PREFIX)})`);
  const name = `${PREFIX}${randomBytes(4).toString('hex')}`;
  const drop = (): Promise<void> => admin(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${quoteIdent(name)}`);
  const unregister = onAbort(drop);
  console.log(`database ${name}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  try {
    await migrate({ url, dir: 'migrations' });
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

/** Runs fn with `callers` concurrent loops for ms milliseconds; returns operations per second. */
export async function throughput(callers: number, ms: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        await fn(done);
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}
