// VACUUM and REINDEX CONCURRENTLY take as long as the table or index needs; the background lane's
// statement_timeout (minutes) would cancel them on a big table every run. Their waits for locks
// stay bounded by lock_timeout. The lane's value is put back before the connection returns to it.
import type { Queryable } from '../../db/cluster.ts';
import { sql } from '../../db/sql.ts';

const lift = sql('jobs.statementTimeout.lift', "SELECT current_setting('statement_timeout') AS was, set_config('statement_timeout', '0', false)");
const restore = sql('jobs.statementTimeout.restore', "SELECT set_config('statement_timeout', $1, false)");

/** Runs fn on session s with statement_timeout off, then restores the session's value. */
export async function withoutStatementTimeout<T>(s: Queryable, fn: () => Promise<T>): Promise<T> {
  const was = (await s.query<{ was: string }>(lift)).rows[0]!.was;
  try {
    return await fn();
  } finally {
    await s.query(restore, [was]);
  }
}
