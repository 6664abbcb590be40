// Over HTTP with a replica: a forged x-pgpress-lsn header (ahead of anything the primary wrote)
// costs the same statements on the same servers as no header. Statements are counted in the
// servers' own logs (log_statement = all, prefixed with the application name).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { LSN_HEADER, buildApp } from '../../src/http/app.ts';
import { migrate } from '../../src/migrate/index.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { inRotation } from '../harness/inRotation.ts';
import { startCluster, type PgNode, type PgReplica, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster;
let replica: PgReplica;
let store: Store;
let app: FastifyInstance;
const tokens = tokenService('f'.repeat(40));

before(async () => {
  pgc = await startCluster({ replicas: 1, settings: { log_statement: 'all', log_line_prefix: '%a|' } });
  replica = pgc.replicas[0]!;
  await migrate({ url: pgc.primary.url, dir: 'migrations' });
  await pgc.waitForReplica(replica);
  store = await createStore({
    url: pgc.primary.url,
    replicaUrls: [replica.url],
    pool: { max: 4, replicas: { maxLagMs: 60_000, rejoinAfterMs: 1_000, monitorIntervalMs: 100, probeTimeoutMs: 1_000, rywWaitMs: 200 } },
  });
  await store.cluster.ready();
  app = await buildApp({ store, tokens, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
});

after(async () => {
  await app?.close();
  await store?.close();
  await pgc?.destroy();
});

/** Statements the store's connections (application_name 'pgpress') have sent to node so far. */
function statementsOf(node: PgNode): number {
  return readFileSync(node.logFile, 'utf8')
    .split('\n')
    .filter((l) => /^pgpress\|LOG: {2}(statement|execute)/.test(l)).length;
}

test('GET /v1/articles/:id with a forged x-pgpress-lsn costs the same statements as without one', async () => {
  const u = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: 'forge@example.com', username: 'forge', displayName: 'F' } });
  assert.equal(u.statusCode, 201, u.body);
  const a = await app.inject({
    method: 'POST',
    url: '/v1/articles',
    headers: { authorization: `Bearer ${tokens.sign({ userId: u.json().id, role: 'author' })}` },
    payload: { title: 'Forged header', status: 'published' },
  });
  assert.equal(a.statusCode, 201, a.body);
  await pgc.waitForReplica(replica);
  await store.cluster.health(); // a monitor round that has seen the replica caught up
  await inRotation(store);

  const N = 8;
  const measure = async (headers: Record<string, string>): Promise<{ replica: number; primary: number; ok: number }> => {
    const r0 = statementsOf(replica);
    const p0 = statementsOf(pgc.primary);
    let ok = 0;
    for (let i = 0; i < N; i++) {
      const res = await app.inject({ url: `/v1/articles/${a.json().id}`, headers });
      if (res.statusCode === 200) ok++;
    }
    return { replica: statementsOf(replica) - r0, primary: statementsOf(pgc.primary) - p0, ok };
  };
  const plain = await measure({});
  assert.equal(plain.ok, N);
  assert.equal(plain.primary, 0, 'without a header every read is served by the replica');
  const forged = await measure({ [LSN_HEADER]: 'FFFFFFFF/FFFFFFFF' });
  assert.deepEqual(forged, plain, 'a forged header: the same statements on the same servers');
});
