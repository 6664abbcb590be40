// Cluster.close() drains: new work fails at once with PGP_DB_UNAVAILABLE, work holding a
// connection may finish within the grace period, then the pools end; work still running after the
// grace period is cancelled on the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../src/db/sql.ts';
import { clusterFactory, code } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase({ empty: true });
const cluster = clusterFactory(db.url);

const sleepQ = sql('test.close.sleep', 'SELECT pg_sleep($1::float8) AS slept');
const pidQ = sql('test.close.pid', 'SELECT pg_backend_pid() AS pid');
const setup = sql('test.close.setup', 'CREATE TABLE IF NOT EXISTS closed_w (id int)');
const insert = sql('test.close.insert', 'INSERT INTO closed_w VALUES ($1)');
const count = sql('test.close.count', 'SELECT count(*)::int AS n FROM closed_w WHERE id = $1');
const activeSleeps = sql('test.close.active', "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()");

const settle = <T>(p: Promise<T>): Promise<{ ok: boolean; code: string; at: number }> =>
  p.then(
    () => ({ ok: true, code: 'ok', at: performance.now() }),
    (e: unknown) => ({ ok: false, code: code(e), at: performance.now() }),
  );

test('close() stops new work at once, lets leased work finish within the grace period, then ends the pools', async () => {
  const c = cluster({ closeGraceMs: 3_000 });
  await c.query(setup);
  const running = settle(c.query(sleepQ, [0.4]));
  const tx = settle(
    c.tx(async (q) => {
      await q.query(sleepQ, [0.2]);
      await q.query(insert, [1]); // after close() began: the transaction still completes
    }),
  );
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  const closing = c.close();
  const late = await settle(c.query(pidQ));
  assert.equal(late.code, 'PGP_DB_UNAVAILABLE');
  assert.ok(late.at - t0 < 100, 'new work failed at once');
  await assert.rejects(c.tx(async () => 1), (e: unknown) => code(e) === 'PGP_DB_UNAVAILABLE');
  const [r, t] = await Promise.all([running, tx]);
  assert.equal(r.code, 'ok', 'the running statement finished');
  assert.equal(t.code, 'ok', 'the transaction finished and committed');
  await closing;
  const closedAt = performance.now();
  assert.ok(closedAt >= Math.max(r.at, t.at), 'close() resolved after the leased work ended');
  assert.ok(closedAt - t0 < 2_000, `close() did not wait out the grace period (${Math.round(closedAt - t0)} ms)`);
  for (const lane of Object.values(c.lanes)) assert.equal(lane.pool.totalCount, 0, `${lane.name} pool has no connections`);
  const check = cluster();
  assert.equal((await check.query<{ n: number }>(count, [1])).rows[0]!.n, 1);
});

test('close() ends work still running after the grace period: cancelled on the server, the caller told', async () => {
  const c = cluster({ closeGraceMs: 300 });
  const running = settle(c.query(sleepQ, [5], { read: true }));
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  await c.close();
  const took = performance.now() - t0;
  assert.ok(took < 1_500, `close() returned soon after its grace period (${Math.round(took)} ms)`);
  const r = await running;
  assert.equal(r.ok, false);
  assert.ok(['PGP_DEADLINE_EXCEEDED', 'PGP_DB_UNAVAILABLE'].includes(r.code), `the caller got a catalogued error (${r.code})`);
  const watcher = cluster();
  let n = 1;
  for (let i = 0; i < 40 && n > 0; i++) {
    n = (await watcher.query<{ n: number }>(activeSleeps)).rows[0]!.n;
    if (n > 0) await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(n, 0, 'no pg_sleep(5) is left running on the server');
});
