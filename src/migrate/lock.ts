// The session advisory lock every runner takes, so one runner applies at a time.
import type pg from 'pg';
import { PgpressError } from '../errors/index.ts';

/** Key of the session advisory lock every runner takes; one runner applies at a time. */
export const MIGRATION_LOCK_KEY = 7_283_901_115n;

const POLL_MIN_MS = 50;
const POLL_MAX_MS = 500;

async function tryLock(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATION_LOCK_KEY.toString()]);
  return rows[0]?.ok === true;
}

/** Takes the lock: waits up to waitMs, or fails at once with PGP_MIGRATION_LOCKED when wait is false. */
export async function acquireMigrationLock(client: pg.Client, wait: boolean, waitMs: number): Promise<void> {
  if (await tryLock(client)) return;
  if (!wait) {
    throw new PgpressError('PGP_MIGRATION_LOCKED', 'Another migration runner holds the migration lock; try again when it has finished, or pass --wait.');
  }
  // Poll with try-lock rather than block in pg_advisory_lock: a blocked statement holds a snapshot,
  // and CREATE INDEX CONCURRENTLY in the holder's migration waits for every older snapshot to end,
  // so holder and waiter would deadlock.
  const deadline = Date.now() + waitMs;
  let delay = POLL_MIN_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
    if (await tryLock(client)) return;
    delay = Math.min(POLL_MAX_MS, delay * 2);
  }
  throw new PgpressError('PGP_MIGRATION_LOCKED', `Another migration runner held the migration lock for over ${waitMs} ms.`);
}
