// A multi-host DATABASE_URL on a plain streaming pair (no Patroni): the Cluster finds the writable
// node whatever the order of the hosts, reads go to the standby, a write that meets 25006 (a URL
// pointing at a standby) is a definite, retryable 503, and after a promotion writes follow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import { sql } from '../../src/db/sql.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { code } from '../harness/testCluster.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster;
const open: Cluster[] = [];
const cluster = (url: string): Cluster => {
  const c = new Cluster({ url, max: 2, metrics: createDbMetrics(new Registry()), replicas: { rejoinAfterMs: 500, monitorIntervalMs: 100, probeTimeoutMs: 1_000 } });
  open.push(c);
  return c;
};

before(async () => {
  pgc = await startCluster({ replicas: 1 });
  await pgc.primary.query('CREATE TABLE items (id int PRIMARY KEY)');
  await pgc.waitForReplica(pgc.replicas[0]!);
});
after(async () => {
  for (const c of open) await c.close();
  await pgc?.destroy();
});

const port = sql('test.mh.port', 'SELECT inet_server_port() AS port');
const insert = sql('test.mh.insert', 'INSERT INTO items VALUES ($1) RETURNING inet_server_port() AS port');
const multi = (): string => `postgres://postgres@127.0.0.1:${pgc.replicas[0]!.port},127.0.0.1:${pgc.primary.port}/postgres`;

test('writes go to the one writable node (listed second), reads to the standby', async () => {
  const c = cluster(multi());
  await c.ready();
  const w = await c.query<{ port: number }>(insert, [1]);
  assert.equal(w.rows[0]!.port, pgc.primary.port);
  const r = await c.query<{ port: number }>(port, [], { read: true });
  assert.equal(r.rows[0]!.port, pgc.replicas[0]!.port, 'a tokenless read goes to the standby in rotation');
  const health = await c.health();
  assert.deepEqual(health.map((h) => [h.name, h.inRotation ?? null]), [['primary', null], ['node1', true], ['node2', false]]);
});

test('a write sent to a standby meets 25006: retried, then a definite 503 PGP_DB_UNAVAILABLE, never a 500', async () => {
  const c = cluster(pgc.replicas[0]!.url);
  const t0 = Date.now();
  const e = await c.query(insert, [2]).then(() => undefined, (err: unknown) => err);
  assert.equal(code(e), 'PGP_DB_UNAVAILABLE', `answered ${String(e)}`);
  assert.equal((e as { pg?: { sqlstate?: string } }).pg?.sqlstate, '25006');
  assert.ok(Date.now() - t0 < 10_000);
  assert.deepEqual(await pgc.primary.query('SELECT id FROM items WHERE id = 2'), [], 'nothing was written');
});

test('CLI commands on a multi-host URL work on the node that is primary (standby listed first)', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: multi(), PGPRESS_DATA_DIR: '/nonexistent-pgpress-cli-mh' };
  delete env.MIGRATION_DATABASE_URL;
  const run = spawnSync(process.execPath, ['bin/pgpress.js', 'migrate', 'status'], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, `migrate status exited ${run.status}: ${run.stderr}`);
  assert.match(run.stdout, /pending/, 'lists the migrations the primary has not applied');
});


test('after a promotion (old primary stopped) the monitor finds the new primary before any write, and writes follow', async () => {
  const c = cluster(multi());
  await c.ready();
  assert.equal((await c.query<{ port: number }>(insert, [3])).rows[0]!.port, pgc.primary.port);
  await pgc.primary.stop('immediate');
  const t0 = Date.now();
  await pgc.replicas[0]!.query('SELECT pg_promote(true, 30)');
  // No write yet: the replica monitor's failed probe of the primary is what makes the topology resolve again.
  const promoted = `127.0.0.1:${pgc.replicas[0]!.port}`;
  for (let primaryUrl = ''; !primaryUrl.includes(promoted); await new Promise((r) => setTimeout(r, 50))) {
    assert.ok(Date.now() - t0 < 30_000, `the Cluster did not notice the promotion within 30 s (primary: ${primaryUrl})`);
    primaryUrl = (await c.health())[0]!.url;
  }
  console.log(`multi-host: the monitor found the promoted node ${Date.now() - t0} ms after pg_promote, before any write`);
  let last: unknown;
  for (let id = 10; Date.now() - t0 < 30_000; id++) {
    try {
      const r = await c.query<{ port: number }>(insert, [id], { deadlineMs: 5_000 });
      assert.equal(r.rows[0]!.port, pgc.replicas[0]!.port);
      console.log(`multi-host: first write on the promoted node ${Date.now() - t0} ms after pg_promote`);
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert.fail(`no write reached the promoted node within 30 s: ${String(last)}`);
});
