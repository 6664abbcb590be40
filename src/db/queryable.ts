// The Cluster's call contract: what a caller passes (query and transaction options), what it gets
// back, and the Queryable that content code is written against. Types only, so session.ts and
// cluster.ts can both use them without importing each other.
import type pg from 'pg';
import type { LaneName } from './lane.ts';
import type { NamedQuery } from './sql.ts';

/** Per-request state: the token the caller brought and the latest commit LSN seen since. */
export interface ConsistencySession {
  /** The highest LSN this session must be able to read (client token, then own commits). */
  token: string | undefined;
  /** The latest commit LSN produced inside this session (returned to HTTP clients). */
  lastCommitLsn: string | undefined;
}

/** Per-call options. */
export interface QueryOptions {
  /** Which primary lane (default 'default'). */
  lane?: LaneName | undefined;
  /** The whole call, retries included, must finish within this many ms. */
  deadlineMs?: number | undefined;
  /** An idempotent read: may be retried and may run on a replica. */
  read?: boolean | undefined;
  /** Read-your-writes token (an LSN): a replica serves the read only once it has replayed it. */
  token?: string | undefined;
  /** The caller's consistency session: its token applies to the read as well. */
  session?: ConsistencySession | undefined;
}

/** A query runner: a Cluster or the client of an open transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(q: NamedQuery, params?: readonly unknown[], opts?: QueryOptions): Promise<pg.QueryResult<R>>;
}

/** Context and limits of a transaction. */
export interface TxOptions {
  /** The acting user, exposed to SQL as current_setting('pgpress.actor_id'). */
  actorId?: string | undefined;
  /** The acting user's role (author, editor, admin), exposed as current_setting('pgpress.role'): row-level security reads it. */
  role?: string | undefined;
  lane?: LaneName | undefined;
  deadlineMs?: number | undefined;
  isolation?: 'read committed' | 'repeatable read' | 'serializable' | undefined;
  /** The caller's consistency session: the commit's LSN becomes its token. */
  session?: ConsistencySession | undefined;
}

/** The result of a transaction: the function's value and the commit's WAL position. */
export interface TxResult<T> {
  value: T;
  /** pg_current_wal_insert_lsn() after commit: a read-your-writes token. */
  lsn: string;
}
