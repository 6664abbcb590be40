// Read-your-writes through the cache on a primary + streaming replica: an entry records the WAL
// position it was read at, and a request carrying a newer token never gets it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/migrate/index.ts';
import { newSession } from '../../src/db/session.ts';
import { createStore, type Store } from '../../src/store.ts';
import { startCluster, type PgReplica, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster;
let replica: PgReplica;
let writer: Store;
let reader: Store;

before(async () => {
  pgc = await startCluster({ replicas: 1 });
  replica = pgc.replicas[0]!;
  await migrate({ url: pgc.primary.url, dir: 'migrations' });
  await pgc.waitForReplica(replica);
  // A long lag bound: a tokenless read may go to the lagging replica; a read with a token never
  // gets older data. The reader instance has no Redis: it never hears the writer's invalidation,
  // so only the token protects it.
  const pool = { max: 4, replicas: { maxLagMs: 60_000, rejoinAfterMs: 1_000, monitorIntervalMs: 100, probeTimeoutMs: 500, rywWaitMs: 100 } };
  writer = await createStore({ url: pgc.primary.url, replicaUrls: [replica.url], pool, cache: { l1MaxBytes: 1 << 20 } });
  reader = await createStore({ url: pgc.primary.url, replicaUrls: [replica.url], pool, cache: { l1MaxBytes: 1 << 20 } });
  await Promise.all([writer.cluster.ready(), reader.cluster.ready()]);
});

after(async () => {
  await replica?.resumeReplay().catch(() => undefined);
  await writer?.close();
  await reader?.close();
  await pgc?.destroy();
});

test('write then read with the token never returns the old value, from the cache or the lagging replica', async () => {
  const s0 = newSession();
  const author = await writer.users.create({ email: 'r@example.com', username: 'ryw', displayName: 'R' }, { session: s0 });
  const art = await writer.articles.create({ authorId: author.id, title: 'v1', status: 'published' }, { session: s0, actorId: author.id });
  await pgc.waitForReplica(replica);
  // The reader caches v1 at s0's position (and serves it from L1 to the same token).
  for (let i = 0; i < 3; i++) assert.equal((await reader.articles.get(art.id, { session: newSession(s0.token) })).title, 'v1');
  assert.equal((await reader.articles.getBySlug(art.slug, { session: newSession(s0.token) })).title, 'v1');
  await replica.pauseReplay();
  try {
    for (let round = 2; round <= 4; round++) {
      const s = newSession();
      const current = await writer.articles.get(art.id, { session: newSession(s0.token) });
      await writer.articles.update(art.id, current.version, { title: `v${round}` }, { session: s, actorId: author.id });
      assert.ok(s.token, 'the write returned its commit LSN');
      for (const store of [reader, writer]) {
        assert.equal((await store.articles.get(art.id, { session: newSession(s.token) })).title, `v${round}`, 'by id, with the write\'s token');
        assert.equal((await store.articles.getBySlug(art.slug, { session: newSession(s.token) })).title, `v${round}`, 'by slug, with the write\'s token');
      }
      // And the newer entry now serves that token from the cache (the replica is still paused).
      assert.equal((await reader.articles.get(art.id, { session: newSession(s.token) })).title, `v${round}`);
    }
  } finally {
    await replica.resumeReplay();
  }
});
