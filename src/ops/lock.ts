// Polite maintenance sessions: one connection of the background lane holding a session advisory
// lock (try-lock, never queue), with lock_timeout set, refusing to act on a replica.
import type pg from 'pg';
import type { Cluster, Queryable } from '../db/cluster.ts';
import type { Lease } from '../db/lane.ts';
import { sql, type NamedQuery } from '../db/sql.ts';
import { fromPgError, isPgpressError } from '../errors/index.ts';

const inRecovery = sql('ops.inRecovery', 'SELECT pg_is_in_recovery() AS r');
const tryLock = sql('ops.tryLock', 'SELECT pg_try_advisory_lock($1) AS ok');
const unlock = sql('ops.unlock', 'SELECT pg_advisory_unlock($1) AS ok');
const setLockTimeout = sql('ops.setLockTimeout', "SELECT set_config('lock_timeout', $1, false)");
const resetLockTimeout = sql('ops.resetLockTimeout', "SELECT set_config('lock_timeout', '0', false)");

/** Advisory lock keys of pgpress's maintenance jobs (one per job, distinct from the migrator's). */
export const LOCK_KEYS = {
  partitions: 7_283_901_201n,
  eventsMigration: 7_283_901_202n,
} as const;

/** A maintenance session: run statements, and BEGIN … COMMIT around a group of them. */
export interface MaintenanceSession extends Queryable {
  tx<T>(fn: () => Promise<T>): Promise<T>;
}

/** What happened: the job ran (with its value), or was skipped and why. */
export type Locked<T> = { ran: true; value: T } | { ran: false; reason: 'replica' | 'locked' };

function session(client: pg.PoolClient): MaintenanceSession {
  const query = async <R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[] = []): Promise<pg.QueryResult<R>> => {
    try {
      return await client.query<R>({ text: q.text, values: params as unknown[] });
    } catch (e) {
      throw fromPgError(e);
    }
  };
  return {
    query,
    async tx<T>(fn: () => Promise<T>): Promise<T> {
      await client.query('BEGIN');
      try {
        const v = await fn();
        await client.query('COMMIT');
        return v;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    },
  };
}

/**
 * A connection of the background lane for a job (maintenance, refresh, seeding, imports): it
 * waits its turn through the lane's permits and queue (at most the lane's acquire timeout, then
 * PGP_POOL_TIMEOUT) and counts in its stats and leak sweep. The lease has no overall deadline —
 * a job runs as long as its work needs; each statement is bounded by the lane's statement_timeout.
 */
export async function backgroundLease(cluster: Cluster): Promise<Lease> {
  try {
    return await cluster.lanes.background.acquire(Infinity);
  } catch (e) {
    throw isPgpressError(e) ? e : fromPgError(e);
  }
}

/** Runs fn on one connection under the advisory lock `key`; skips on a replica or when held. */
export async function withMaintenanceLock<T>(cluster: Cluster, key: bigint, lockTimeoutMs: number, fn: (s: MaintenanceSession) => Promise<T>): Promise<Locked<T>> {
  const lease = await backgroundLease(cluster);
  const s = session(lease.client);
  let broken: Error | undefined;
  try {
    const { rows } = await s.query<{ r: boolean }>(inRecovery);
    if (rows[0]!.r) return { ran: false, reason: 'replica' };
    const lock = await s.query<{ ok: boolean }>(tryLock, [key.toString()]);
    if (!lock.rows[0]!.ok) return { ran: false, reason: 'locked' };
    try {
      // Short DDL waits: behind a long reader we give up and retry on the next run, instead of
      // queueing an ACCESS EXCLUSIVE request that would block every query after it.
      await s.query(setLockTimeout, [`${lockTimeoutMs}ms`]);
      return { ran: true, value: await fn(s) };
    } finally {
      await s.query(resetLockTimeout).catch((e: Error) => (broken = e));
      await s.query(unlock, [key.toString()]).catch((e: Error) => (broken = e));
    }
  } finally {
    lease.release(broken);
  }
}
