import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, sweepStaleClusters, type PgReplica, type TestCluster } from './pgCluster.ts';

let cluster: TestCluster;
let replica: PgReplica;

before(async () => {
  cluster = await startCluster({ replicas: 1 });
  replica = cluster.replicas[0]!;
  await cluster.primary.query('CREATE TABLE items (id int PRIMARY KEY, note text NOT NULL)');
});

after(async () => {
  await cluster?.destroy();
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Exited processes may linger as zombies (orphans reparented to an init that reaps lazily).
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const ids = async (node: { query: TestCluster['primary']['query'] }) =>
  (await node.query<{ id: number }>('SELECT id FROM items ORDER BY id')).map((r) => r.id);

test('a primary write reaches the replica, which refuses writes', async () => {
  await cluster.primary.query('INSERT INTO items VALUES ($1, $2)', [1, 'one']);
  await cluster.waitForReplica(replica);
  assert.deepEqual(await replica.query('SELECT id, note FROM items'), [{ id: 1, note: 'one' }]);
  await assert.rejects(replica.query('INSERT INTO items VALUES ($1, $2)', [2, 'two']), { code: '25006' });
});

test('paused replay hides new rows until resumed', async () => {
  await replica.pauseReplay();
  let lsn: string;
  try {
    await cluster.primary.query('INSERT INTO items VALUES ($1, $2)', [2, 'two']);
    lsn = await cluster.currentLsn();
    // The replica has received the WAL but must not have applied it.
    await until('the replica to receive the WAL', async () => {
      const [row] = await replica.query<{ ok: boolean }>('SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS ok', [lsn]);
      return row?.ok === true;
    });
    assert.deepEqual(await ids(replica), [1]);
    const [state] = await replica.query<{ s: string }>('SELECT pg_get_wal_replay_pause_state() AS s');
    assert.equal(state?.s, 'paused');
  } finally {
    await replica.resumeReplay();
  }
  await cluster.waitForReplica(replica, lsn);
  assert.deepEqual(await ids(replica), [1, 2]);
});

test('committed rows survive an immediate stop; the replica reconnects and catches up', async () => {
  await cluster.primary.query("INSERT INTO items SELECT g, 'bulk' FROM generate_series($1::int, $2::int) g", [3, 102]);
  await cluster.primary.stop('immediate');
  await cluster.primary.start();
  const [row] = await cluster.primary.query<{ n: string }>('SELECT count(*) AS n FROM items');
  assert.equal(row?.n, '102');

  // A write after the restart proves the replica streams from the restarted primary.
  await cluster.primary.query('INSERT INTO items VALUES ($1, $2)', [103, 'after restart']);
  await cluster.waitForReplica(replica);
  const [r] = await replica.query<{ n: string; max: number }>('SELECT count(*) AS n, max(id) AS max FROM items');
  assert.deepEqual(r, { n: '103', max: 103 });
});

test('each cluster has a system identifier of its own, as initdb gives (npm test copies one initdb\'d template: PGPRESS_CLUSTER_TEMPLATE)', async () => {
  const other = await startCluster();
  try {
    const q = 'SELECT system_identifier::text AS id FROM pg_control_system()';
    const [[a], [r], [b]] = await Promise.all([cluster.primary.query(q), replica.query(q), other.primary.query(q)]);
    assert.equal(r.id, a.id, 'a replica is a copy of its primary');
    assert.notEqual(b.id, a.id);
  } finally {
    await other.destroy();
  }
});

test('sweepStaleClusters removes dead dirs and spares live clusters', async () => {
  const stale = fs.mkdtempSync(path.join(os.tmpdir(), 'pgpress-cluster-'));
  fs.writeFileSync(path.join(stale, 'owner.pid'), '999999999'); // no such process
  sweepStaleClusters();
  assert.equal(fs.existsSync(stale), false);
  assert.equal(fs.existsSync(cluster.primary.dataDir), true);
  assert.deepEqual(await cluster.primary.query('SELECT 1 AS one'), [{ one: 1 }]);
});

test('destroy stops the servers and removes the temp dir', async () => {
  const root = path.dirname(cluster.primary.dataDir);
  const pids = [cluster.primary, replica].map((n) => Number(fs.readFileSync(path.join(n.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]));
  await cluster.destroy();
  assert.equal(fs.existsSync(root), false);
  for (const pid of pids) await until(`postmaster ${pid} to exit`, async () => !running(pid), 5_000);
  await cluster.destroy(); // idempotent
});
