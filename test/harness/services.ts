// The services tests need, found or explained: PostgreSQL and Redis on this machine.
import pg from 'pg';
import { Redis } from 'ioredis';

/** Admin URL of the PostgreSQL server tests create their databases on. */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Redis for tests. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** URL of database `name` on the admin server. */
export function databaseUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Fails with what to start when PostgreSQL or Redis is not reachable; never skips. */
export async function assertServices(): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (e) {
    throw new Error(
      `PostgreSQL is not reachable at ${ADMIN_URL} (${(e as Error).message}).\n` +
        'Start it (on this machine: pg_ctlcluster --skip-systemctl-redirect 15 main start) or set TEST_DATABASE_URL to a server where tests may create databases.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5_000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${(e as Error).message}).\n` +
        'Start it (on this machine: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no) or set REDIS_URL.',
    );
  } finally {
    redis.disconnect();
  }
}
