// The bare baselines' query path, pg's fastest correct one: the statement sent as the Cluster sends
// it (src/db/statement.ts), a named pg.Query with a callback (a config object costs pg a descriptor
// copy and a second promise); the connection taken with pool.connect's callback form and released
// in the query's callback (discarded if the statement failed); one promise for the caller.
import pg from 'pg';
import type { NamedQuery } from '../src/db/sql.ts';

/** Runs q on a connection of pool; resolves with its rows. */
export function queryRows<R extends pg.QueryResultRow = pg.QueryResultRow>(pool: pg.Pool, q: NamedQuery, values: unknown[]): Promise<R[]> {
  return new Promise((resolve, reject) => {
    pool.connect((connectError, client, release) => {
      if (connectError || !client) return reject(connectError ?? new Error('no client'));
      const query = new pg.Query(q.text, values, (err, res) => {
        release(err ?? undefined);
        if (err) reject(err);
        else resolve((res as unknown as pg.QueryResult<R>).rows);
      });
      (query as unknown as { name: string }).name = q.name;
      void client.query(query);
    });
  });
}
