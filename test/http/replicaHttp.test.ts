// Over HTTP with a replica: /readyz and `pgpress doctor` report every target, metrics land in the
// registry, and the x-pgpress-lsn header gives read-your-writes across requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { doctorCommand } from '../../src/cli/doctor.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { LSN_HEADER, buildApp } from '../../src/http/app.ts';
import { migrate } from '../../src/migrate/index.ts';
import { registry } from '../../src/observability/metrics.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { inRotation } from '../harness/inRotation.ts';
import { startCluster, type PgReplica, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster;
let replica: PgReplica;
let store: Store;
let app: FastifyInstance;
const tokens = tokenService('r'.repeat(40));

before(async () => {
  pgc = await startCluster({ replicas: 1 });
  replica = pgc.replicas[0]!;
  await migrate({ url: pgc.primary.url, dir: 'migrations' });
  await pgc.waitForReplica(replica);
  // A long lag bound and RYW wait: a tokenless read may be stale; a read with a token never is.
  store = await createStore({
    url: pgc.primary.url,
    replicaUrls: [replica.url],
    pool: { max: 4, replicas: { maxLagMs: 60_000, rejoinAfterMs: 1_000, monitorIntervalMs: 100, probeTimeoutMs: 500, rywWaitMs: 100 } },
  });
  await store.cluster.ready();
  app = await buildApp({ store, tokens, shedEventLoopDelayMs: 0 });
  await inRotation(store);
});

after(async () => {
  await app?.close();
  await store?.close();
  await pgc?.destroy();
});

test('/readyz reports the primary and each replica with state, lag and breaker', async () => {
  const res = await app.inject('/readyz');
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.status, 'ready');
  const [primary, rep] = body.targets;
  assert.deepEqual([primary.name, primary.role, primary.state, primary.breaker], ['primary', 'primary', 'up', 'closed']);
  assert.deepEqual([rep.name, rep.role, rep.state, rep.breaker, rep.inRotation], ['replica1', 'replica', 'healthy', 'closed', true]);
  assert.equal(typeof rep.lagMs, 'number');
  assert.match(rep.replayLsn, /^[0-9A-F]+\/[0-9A-F]+$/);
  assert.ok(primary.lanes.critical.max >= 1 && primary.lanes.background.max >= 1);
  assert.doesNotMatch(res.body, /postgres(ql)?:\/\/|127\.0\.0\.1/, 'target URLs stay out of the public probe');
});

test('metrics for lanes and targets are registered in the one registry', async () => {
  await app.inject('/readyz');
  const text = await registry.metrics();
  assert.match(text, /pgpress_db_connections\{target="primary",lane="critical",state="idle"\} \d+/);
  assert.match(text, /pgpress_db_connections\{target="replica1",lane="default",state="in_use"\} \d+/);
  assert.match(text, /pgpress_db_breaker_state\{target="replica1"\} 0/);
  assert.match(text, /pgpress_db_replica_lag_seconds\{target="replica1"\} [\d.e-]+/);
  assert.match(text, /pgpress_db_acquire_seconds_count\{target="primary",lane="critical"\} [1-9]/);
});

test('pgpress doctor prints each target', async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await doctorCommand(loadSettings({ DATABASE_URL: pgc.primary.url, DATABASE_REPLICA_URLS: replica.url }));
  } finally {
    console.log = log;
  }
  const out = lines.join('\n');
  assert.match(out, /^target primary \(postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres\): up breaker=closed/m);
  assert.match(out, /^target replica1 \(.*\): (healthy|unknown) breaker=closed lag=/m);
  assert.match(out, /^ready$/m);
});

test('the x-pgpress-lsn header carries read-your-writes across requests, even with replay paused', async () => {
  const u = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: 'ryw@example.com', username: 'ryw', displayName: 'R' } });
  assert.equal(u.statusCode, 201, u.body);
  assert.match(String(u.headers[LSN_HEADER]), /^[0-9A-F]+\/[0-9A-F]+$/);
  await replica.pauseReplay();
  try {
    const a = await app.inject({
      method: 'POST',
      url: '/v1/articles',
      headers: { authorization: `Bearer ${tokens.sign({ userId: u.json().id, role: 'author' })}` },
      payload: { title: 'Fresh', status: 'published' },
    });
    assert.equal(a.statusCode, 201, a.body);
    const token = String(a.headers[LSN_HEADER]);
    assert.match(token, /^[0-9A-F]+\/[0-9A-F]+$/);
    // Without the token the stale replica answers (within the lag bound): the article is not there yet.
    const stale = await app.inject(`/v1/articles/${a.json().id}`);
    assert.equal(stale.statusCode, 404);
    assert.equal(stale.headers[LSN_HEADER], undefined, 'reads do not hand out tokens');
    // With it, the read waits briefly for the replica, then uses the primary: never stale.
    for (let i = 0; i < 3; i++) {
      const fresh = await app.inject({ url: `/v1/articles/${a.json().id}`, headers: { [LSN_HEADER]: token } });
      assert.equal(fresh.statusCode, 200, fresh.body);
      assert.equal(fresh.json().title, 'Fresh');
    }
  } finally {
    await replica.resumeReplay();
  }
});
