// Stampede control: 200 concurrent misses on one key, across two instances sharing Redis, cost
// PostgreSQL one read (single-flight in each process, a load lease in Redis between them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../../src/store.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { startOwnRedis } from '../harness/testRedis.ts';
import { articleIdScans, cachedStore, freshNamespace } from './cacheHarness.ts';

/** Waits until the server's counter stops moving (exited backends' counts land asynchronously). */
async function settledScans(url: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const n = await articleIdScans(url);
    if (n === last) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 150));
  }
  return last;
}

test('200 concurrent misses on one article across two instances cause one database read', async () => {
  const { url } = await testDatabase();
  const redis = await startOwnRedis();
  const setup = await createStore({ url, pool: { max: 2 } });
  const author = await setup.users.create({ email: 's@example.com', username: 'stampede', displayName: 'S' });
  const article = await setup.articles.create({ authorId: author.id, title: 'Hot', body: 'x'.repeat(2000), status: 'published' });
  await setup.close();
  const ns = freshNamespace();
  const a = await cachedStore(url, redis.url, ns);
  const b = await cachedStore(url, redis.url, ns);
  // Connections open before the burst, so the burst measures the cache, not pool warm-up.
  await Promise.all([a.cluster.ready(), b.cluster.ready()]);
  const before = await settledScans(url);
  const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).articles.get(article.id)));
  assert.ok(reads.every((r) => r.id === article.id && r.body === article.body));
  await a.close();
  await b.close();
  const after = await settledScans(url);
  assert.equal(after - before, 1, 'PostgreSQL read the article once for 200 concurrent requests on two instances');
});
