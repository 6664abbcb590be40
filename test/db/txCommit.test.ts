// tx() reports what PostgreSQL did at COMMIT: a transaction the server rolled back (the caller's
// function swallowed a statement error) is an error, never a success with a read-your-writes token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../src/db/sql.ts';
import { newSession } from '../../src/db/session.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { clusterFactory, code } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase({ empty: true });
const cluster = clusterFactory(db.url);

const setup = sql('test.txc.setup', 'CREATE TABLE IF NOT EXISTS item (id int PRIMARY KEY)');
const insert = sql('test.txc.insert', 'INSERT INTO item (id) VALUES ($1)');
const count = sql('test.txc.count', 'SELECT count(*)::int AS n FROM item WHERE id = $1');

test('a transaction whose function swallowed a statement error is reported as rolled back, with no token', async () => {
  const c = cluster();
  await c.query(setup);
  await c.query(insert, [1]);
  const session = newSession();
  let runs = 0;
  const err = await c
    .tx(
      async (q) => {
        runs++;
        await q.query(insert, [2]); // would commit if the transaction did
        try {
          await q.query(insert, [1]); // duplicate key: the transaction is now aborted
        } catch {
          // swallowed: PostgreSQL answers the COMMIT with ROLLBACK
        }
        return 'done';
      },
      { session },
    )
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.equal(code(err), 'PGP_TX_ROLLED_BACK');
  assert.ok(isPgpressError(err) && err.pg?.sqlstate === '23505', 'the error carries the swallowed statement error');
  assert.equal(runs, 1, 'a definite rollback of a non-retryable error is not retried');
  assert.equal(session.token, undefined, 'no read-your-writes token for a transaction that did not commit');
  assert.equal(session.lastCommitLsn, undefined);
  assert.equal((await c.query<{ n: number }>(count, [2])).rows[0]!.n, 0, 'the row written before the error did not commit');
  // The connection is clean afterwards: the next transaction commits.
  const ok = await c.tx((q) => q.query(insert, [3]), { session });
  assert.match(ok.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
  assert.equal(session.token, ok.lsn);
});
