// A consistency session: carries a read-your-writes token through one request (AsyncLocalStorage),
// so reads after a write in the same request, or carrying the client's token, never see stale data.
import { AsyncLocalStorage } from 'node:async_hooks';
import { maxLsn } from './lsn.ts';

/** Per-request state: the token the caller brought and the latest commit LSN seen since. */
export interface ConsistencySession {
  /** The highest LSN this session must be able to read (client token, then own commits). */
  token: string | undefined;
  /** The latest commit LSN produced inside this session (returned to HTTP clients). */
  lastCommitLsn: string | undefined;
}

const storage = new AsyncLocalStorage<ConsistencySession>();

/** Runs fn inside a new session that starts from token (e.g. an HTTP header). */
export function runInSession<T>(token: string | undefined, fn: () => T): { session: ConsistencySession; result: T } {
  const session: ConsistencySession = { token, lastCommitLsn: undefined };
  return { session, result: storage.run(session, fn) };
}

/** The session of the current async context, if any. */
export function currentSession(): ConsistencySession | undefined {
  return storage.getStore();
}

/** Records a commit LSN in the current session: later reads in it wait for that position. */
export function noteCommit(lsn: string): void {
  const s = storage.getStore();
  if (!s || lsn === '') return;
  s.lastCommitLsn = maxLsn(s.lastCommitLsn, lsn);
  s.token = maxLsn(s.token, lsn);
}
