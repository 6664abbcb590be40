// The bare baselines' query path: pg's fastest correct one, the same the Cluster uses (src/db/
// cluster.ts send()): a pool connection taken with a callback, a named pg.Query with a callback
// (a config object costs pg a descriptor copy and a second promise), the connection released in
// the callback (discarded if the statement failed), one promise for the caller.
import pg from 'pg';

/** A named statement, as src/content/…/queries.ts declare them. */
export interface NamedSql {
  readonly name: string;
  readonly text: string;
}

/** Runs q on a connection of pool; resolves with its rows. */
export function queryRows<R extends pg.QueryResultRow = pg.QueryResultRow>(pool: pg.Pool, q: NamedSql, values: unknown[]): Promise<R[]> {
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
