// A migrated scratch database for a benchmark, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdent } from '../src/db/sql.ts';
import { migrate } from '../src/migrate/index.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates and migrates a database; `drop` removes it. */
export async function benchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `pgpress_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (text: string): Promise<void> => {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${quoteIdent(name)}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  await migrate({ url, dir: 'migrations' });
  return { url, drop: () => admin(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`) };
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
