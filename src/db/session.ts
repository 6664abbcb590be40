// A consistency session: carries a read-your-writes token through one request, so reads after a
// write in it, or carrying the client's token, never see stale data. It is passed explicitly
// (QueryOptions.session, TxOptions.session): AsyncLocalStorage would do it implicitly, but on
// Node 20 it turns on promise hooks for every promise in the process, which cost the HTTP path a
// quarter of its throughput (measured with `npm run bench -- api`).
import { maxLsn } from './lsn.ts';
import type { ConsistencySession, Queryable, QueryOptions } from './queryable.ts';

export type { ConsistencySession } from './queryable.ts';

/** A new session that starts from token (e.g. an HTTP header). */
export function newSession(token?: string): ConsistencySession {
  return { token, lastCommitLsn: undefined };
}

/** Records a commit LSN in the session: later reads in it wait for that position. */
export function noteCommit(session: ConsistencySession | undefined, lsn: string): void {
  if (!session || lsn === '') return;
  session.lastCommitLsn = maxLsn(session.lastCommitLsn, lsn);
  session.token = maxLsn(session.token, lsn);
}

/** A Queryable whose every call carries the session (for code that takes a Queryable). */
export function inSession(db: Queryable, session: ConsistencySession | undefined): Queryable {
  if (!session) return db;
  return { query: (q, params, opts?: QueryOptions) => db.query(q, params, { ...opts, session }) };
}
