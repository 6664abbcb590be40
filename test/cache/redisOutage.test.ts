// Redis hung (SIGSTOP), flushed or killed under load: every request is answered from PostgreSQL
// within its bound, no 5xx, Redis is not sent a command per request, and the cache recovers alone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/http/app.ts';
import { registry } from '../../src/observability/metrics.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore } from '../../src/store.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { startOwnRedis } from '../harness/testRedis.ts';
import { cacheRedis, freshNamespace, ready } from './cacheHarness.ts';

const COMMAND_TIMEOUT_MS = 250;
/** Each request must be answered within this (the command timeout plus a loaded machine's slack). */
const BOUND_MS = 2_000;

async function l2Errors(): Promise<number> {
  const m = (await registry.getSingleMetric('pgpress_cache_l2_errors_total')?.get())?.values ?? [];
  return m.reduce((a, v) => a + v.value, 0);
}

test('Redis frozen, flushed, then killed: no 5xx, answers within the bound, L2 back after the thaw', async () => {
  const { url } = await testDatabase();
  const redis = await startOwnRedis();
  const ns = freshNamespace();
  const client = cacheRedis(redis.url, COMMAND_TIMEOUT_MS);
  await ready(client);
  const store = await createStore({ url, pool: { max: 4 }, cache: { l1MaxBytes: 8 << 20, namespace: ns, redis: client, l2RetryMs: 1_000 } });
  after(() => store.close());
  const tokens = tokenService('o'.repeat(40));
  const app = await buildApp({ store, tokens, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  after(() => app.close());
  const author = await store.users.create({ email: 'o@example.com', username: 'outage', displayName: 'O' });
  const ids: number[] = [];
  for (let i = 0; i < 30; i++) ids.push((await store.articles.create({ authorId: author.id, title: `Article ${i}`, status: 'published' })).id);
  for (const id of ids.slice(0, 10)) assert.equal((await app.inject(`/v1/articles/${id}`)).statusCode, 200);
  const raw = new Redis(redis.url, { maxRetriesPerRequest: 0, lazyConnect: true });
  raw.on('error', () => undefined);
  after(() => raw.disconnect());
  await raw.connect();
  assert.equal(await raw.exists(`pgpress:c:{${ns}}:e:a:${ids[0]}`), 1, 'the warm-up filled L2');

  /** 16 concurrent clients for ms: cached and uncached reads, some feed pages and a write now and then. */
  async function load(ms: number): Promise<{ statuses: Map<number, number>; worst: number; n: number }> {
    const statuses = new Map<number, number>();
    let worst = 0;
    let n = 0;
    const until = Date.now() + ms;
    await Promise.all(Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        const id = ids[(w * 7 + i * 13) % ids.length]!;
        const t0 = Date.now();
        const res = i % 10 === 9 ? await app.inject('/v1/feed?limit=5') : await app.inject(`/v1/articles/${id}`);
        worst = Math.max(worst, Date.now() - t0);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        n++;
        // inject() answers an L1 hit without I/O: yield, as a socket would, so PostgreSQL replies are read.
        await new Promise((r) => setImmediate(r));
      }
    }));
    return { statuses, worst, n };
  }

  redis.freeze();
  // The commands in flight when Redis froze all time out together; after that burst (1 s in),
  // count what the next 2 s send.
  let errorsAt1s = 0;
  const sample = setTimeout(() => void l2Errors().then((n) => (errorsAt1s = n)), 1_000);
  const frozen = await load(3_000);
  clearTimeout(sample);
  const errorsFrozen = (await l2Errors()) - errorsAt1s;
  // A write while frozen: its invalidation cannot reach Redis; it is sent once Redis answers.
  const art = await store.articles.get(ids[0]!);
  await store.articles.update(ids[0]!, art.version, { title: 'Changed while frozen' }, { actorId: author.id });
  assert.deepEqual([...frozen.statuses.keys()], [200], `statuses while Redis is frozen: ${JSON.stringify([...frozen.statuses])}`);
  assert.ok(frozen.worst < BOUND_MS, `slowest answer while frozen ${frozen.worst} ms (bound ${BOUND_MS})`);
  // Back-off: after a timeout L2 is skipped for l2RetryMs, then probed once — not a command per request.
  assert.ok(errorsFrozen <= 3, `${errorsFrozen} Redis failures in the last 2 s of ${frozen.n} requests while frozen (one probe per second expected)`);

  redis.thaw();
  // Recovers by itself: within a few seconds a fresh miss is stored in L2 again, and the write's
  // invalidation reached Redis (the old entry of ids[0] is gone or holds the new title).
  const t0 = Date.now();
  let back = false;
  while (Date.now() - t0 < 5_000 && !back) {
    // A fresh article each round: a miss in L1, so its read goes through L2.
    const fresh = await store.articles.create({ authorId: author.id, title: 'After the thaw', status: 'published' });
    await app.inject(`/v1/articles/${fresh.id}`);
    await new Promise((r) => setTimeout(r, 50));
    back = (await raw.exists(`pgpress:c:{${ns}}:e:a:${fresh.id}`)) === 1;
  }
  assert.ok(back, 'L2 stores entries again after the thaw');
  assert.equal((await app.inject(`/v1/articles/${ids[0]}`)).json().title, 'Changed while frozen');

  await raw.flushall();
  const flushed = await load(800);
  assert.deepEqual([...flushed.statuses.keys()], [200], `statuses after FLUSHALL: ${JSON.stringify([...flushed.statuses])}`);
  const art2 = await store.articles.get(ids[1]!);
  await store.articles.update(ids[1]!, art2.version, { title: 'After the flush' }, { actorId: author.id });
  assert.equal((await app.inject(`/v1/articles/${ids[1]}`)).json().title, 'After the flush');

  await redis.stop();
  const killed = await load(1_500);
  assert.deepEqual([...killed.statuses.keys()], [200], `statuses with Redis killed: ${JSON.stringify([...killed.statuses])}`);
  assert.ok(killed.worst < BOUND_MS, `slowest answer with Redis killed ${killed.worst} ms`);
});
