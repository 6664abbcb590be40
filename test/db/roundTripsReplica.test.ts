// The one-round-trip write's LSN is a working read-your-writes token on a real streaming replica:
// with replay paused a read in the session is never stale (it goes to the primary), and once the
// replica has replayed up to the token the row is there (the token is at or after the commit).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import { newSession } from '../../src/db/session.ts';
import { sql } from '../../src/db/sql.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { startCluster } from '../harness/pgCluster.ts';

const insert = sql('test.rtr.insert', 'INSERT INTO items (id) VALUES ($1)');
const countId = sql('test.rtr.count', 'SELECT count(*)::int AS n FROM items WHERE id = $1');

test('txStatement: the commit LSN keeps a session read fresh under paused replay and covers the commit', async () => {
  const pgc = await startCluster({ replicas: 1 });
  after(() => pgc.destroy());
  const replica = pgc.replicas[0]!;
  await pgc.primary.query('CREATE TABLE items (id int PRIMARY KEY)');
  await pgc.waitForReplica(replica);
  const c = new Cluster({
    url: pgc.primary.url,
    replicaUrls: [replica.url],
    metrics: createDbMetrics(new Registry()),
    replicas: { maxLagMs: 5_000, monitorIntervalMs: 100, rywWaitMs: 300 },
  });
  after(() => c.close());
  await c.ready();
  await replica.pauseReplay();
  const session = newSession();
  const { lsn } = await c.txStatement(insert, [1], { session });
  assert.equal(session.token, lsn);
  assert.equal((await c.query<{ n: number }>(countId, [1], { read: true })).rows[0]!.n, 0, 'a tokenless read may be served stale by the paused replica');
  assert.equal((await c.query<{ n: number }>(countId, [1], { read: true, session })).rows[0]!.n, 1, 'the session read is never stale');
  await replica.resumeReplay();
  await pgc.waitForReplica(replica, lsn);
  assert.equal((await replica.query<{ n: number }>('SELECT count(*)::int AS n FROM items WHERE id = 1'))[0]!.n, 1, 'replayed up to the token, the replica has the row');
});
