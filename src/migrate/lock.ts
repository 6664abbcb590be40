// The session advisory lock every runner takes, so one runner applies at a time.
import type pg from 'pg';
import { PgpressError, isPgServerError } from '../errors/index.ts';

/** Key of the session advisory lock every runner takes; one runner applies at a time. */
export const MIGRATION_LOCK_KEY = 7_283_901_115n;

/** Takes the lock: waits up to waitMs, or fails at once with PGP_MIGRATION_LOCKED when wait is false. */
export async function acquireMigrationLock(client: pg.Client, wait: boolean, waitMs: number): Promise<void> {
  if (!wait) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATION_LOCK_KEY.toString()]);
    if (rows[0]?.ok) return;
    throw new PgpressError('PGP_MIGRATION_LOCKED', 'Another migration runner holds the migration lock; try again when it has finished, or pass --wait.');
  }
  await client.query('SELECT set_config($1, $2, false)', ['lock_timeout', `${waitMs}ms`]);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
  } catch (e) {
    if (isPgServerError(e) && e.code === '55P03') {
      throw new PgpressError('PGP_MIGRATION_LOCKED', `Another migration runner held the migration lock for over ${waitMs} ms.`, { cause: e });
    }
    throw e;
  } finally {
    await client.query('RESET lock_timeout');
  }
}
