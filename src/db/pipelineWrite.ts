// A write made of one statement, run as its own transaction in one network round trip: the
// Queryable handed to a repository function sends its (only) statement through
// Cluster.txStatement, with the caller's context (actor, role, session, deadline). A second
// statement would be a second transaction, so it is refused, not run.
import type pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import type { Cluster } from './cluster.ts';
import type { Queryable, TxOptions } from './queryable.ts';
import type { NamedQuery } from './sql.ts';

/** fn's value and the commit LSN of its one statement ('' when fn sent none). */
export async function oneStatementTx<T>(cluster: Pick<Cluster, 'txStatement'>, opts: TxOptions, fn: (q: Queryable) => Promise<T>): Promise<{ value: T; lsn: string }> {
  let sent: NamedQuery | undefined;
  let lsn = '';
  const q: Queryable = {
    query: async <R extends pg.QueryResultRow>(query: NamedQuery, params: readonly unknown[] = []): Promise<pg.QueryResult<R>> => {
      if (sent) throw new PgpressError('PGP_INTERNAL', `A one-statement write sent a second statement (${query.name} after ${sent.name}); it must run in tx().`);
      sent = query;
      const r = await cluster.txStatement<R>(query, params, opts);
      lsn = r.lsn;
      return r.value;
    },
  };
  const value = await fn(q);
  return { value, lsn };
}
