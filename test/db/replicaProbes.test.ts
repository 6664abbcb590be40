// Probes and tokens against a real streaming cluster: concurrent probe rounds never take a healthy
// replica out of rotation, and a read-your-writes token ahead of the primary (forged) costs no more
// round trips than no token. Statements are counted in the servers' own logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import { ProbeClient } from '../../src/db/probeClient.ts';
import { ReplicaMonitor } from '../../src/db/replicaMonitor.ts';
import { newSession } from '../../src/db/session.ts';
import { sql } from '../../src/db/sql.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { startCluster, type PgNode, type PgReplica, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster;
let replica: PgReplica;
let c: Cluster;

const MONITOR = { maxLagMs: 5_000, rejoinAfterMs: 5_000, monitorIntervalMs: 100, probeTimeoutMs: 1_000, rywWaitMs: 300 };

before(async () => {
  // Every statement is logged with its application name first: the cluster's connections are 'pgpress'.
  pgc = await startCluster({ replicas: 1, settings: { log_statement: 'all', log_line_prefix: '%a|' } });
  replica = pgc.replicas[0]!;
  await pgc.primary.query('CREATE TABLE items (id int PRIMARY KEY)');
  await pgc.waitForReplica(replica);
  c = new Cluster({ url: pgc.primary.url, replicaUrls: [replica.url], metrics: createDbMetrics(new Registry()), replicas: MONITOR });
  await c.ready();
});

after(async () => {
  await c?.close();
  await pgc?.destroy();
});

const standby = sql('test.probes.standby', 'SELECT pg_is_in_recovery() AS standby');

/** Statements the cluster's own connections (application_name 'pgpress') have sent to node so far. */
function statementsOf(node: PgNode): number {
  return readFileSync(node.logFile, 'utf8')
    .split('\n')
    .filter((l) => /^pgpress\|LOG: {2}(statement|execute)/.test(l)).length;
}

test('concurrent probes on one ProbeClient all succeed (none ends the connection under another)', async () => {
  const probe = new ProbeClient(replica.url, 2_000);
  try {
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => probe.query<{ one: number }>('SELECT 1 AS one')));
      const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      assert.deepEqual(failed, [], `round ${round}: every concurrent probe succeeds`);
    }
  } finally {
    probe.discard();
  }
});

test('concurrent monitor rounds and health() calls never take a healthy replica out of rotation', async () => {
  const monitor = new ReplicaMonitor(pgc.primary.url, [{ name: 'replica1', url: replica.url }], { ...MONITOR, intervalMs: MONITOR.monitorIntervalMs });
  try {
    await monitor.start();
    const r = monitor.replicas[0]!;
    assert.equal(r.inRotation, true);
    for (let round = 0; round < 15; round++) {
      await Promise.all(Array.from({ length: 7 }, () => monitor.refresh()));
      assert.equal(r.inRotation, true, `round ${round}: the replica left the rotation (${r.state}: ${r.lastError})`);
    }
  } finally {
    await monitor.stop();
  }
  for (let round = 0; round < 10; round++) {
    const all = await Promise.all(Array.from({ length: 7 }, () => c.health()));
    for (const h of all) {
      const rep = h.find((t) => t.role === 'replica')!;
      assert.equal(rep.inRotation, true, `health round ${round}: the replica left the rotation (${rep.state}: ${rep.error})`);
    }
  }
});

test('a forged token ahead of the primary (FFFFFFFF/FFFFFFFF) costs no more round trips than no token', async () => {
  const N = 10;
  const measure = async (token: string | undefined, via: 'token' | 'session' = 'token'): Promise<{ replica: number; primary: number; onReplica: number }> => {
    const r0 = statementsOf(replica);
    const p0 = statementsOf(pgc.primary);
    let onReplica = 0;
    for (let i = 0; i < N; i++) {
      // 'session': as the HTTP layer passes an x-pgpress-lsn header (a session started from it).
      const carry = token === undefined ? {} : via === 'token' ? { token } : { session: newSession(token) };
      const { rows } = await c.query<{ standby: boolean }>(standby, [], { read: true, deadlineMs: 5_000, ...carry });
      if (rows[0]!.standby) onReplica++;
    }
    return { replica: statementsOf(replica) - r0, primary: statementsOf(pgc.primary) - p0, onReplica };
  };
  const plain = await measure(undefined);
  assert.deepEqual(plain, { replica: N, primary: 0, onReplica: N }, 'without a token every read is one statement on the replica');
  const forged = await measure('FFFFFFFF/FFFFFFFF');
  assert.deepEqual(forged, plain, 'a forged token: the same statements on the same servers');
  const forgedSession = await measure('FFFFFFFF/FFFFFFFF', 'session');
  assert.deepEqual(forgedSession, plain, 'a session started from a forged header: the same statements on the same servers');
});

test('a genuine token still gives read-your-writes after the clamp', async () => {
  const insert = sql('test.probes.insert', 'INSERT INTO items VALUES ($1)');
  const countId = sql('test.probes.countId', 'SELECT count(*)::int AS n FROM items WHERE id = $1');
  await replica.pauseReplay();
  try {
    const { lsn } = await c.tx((q) => q.query(insert, [7]));
    assert.equal((await c.query<{ n: number }>(countId, [7], { read: true, token: lsn })).rows[0]!.n, 1, 'the token is honoured: never stale');
  } finally {
    await replica.resumeReplay();
  }
});
