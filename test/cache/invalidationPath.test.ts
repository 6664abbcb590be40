// One path per invalidation source: a change the database logs reaches each instance through its
// own change feed (no pub/sub message), a write committed here reaches the others in one message.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startCacheChangeFeed } from '../../src/cache/changeFeedStart.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Store } from '../../src/store.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { startOwnRedis } from '../harness/testRedis.ts';
import { cachedStore, cacheRedis, ready } from './cacheHarness.ts';

const BOUND_MS = 1000;
const redis = await startOwnRedis();
const db = await testDatabase();
const namespace = 'path';

// Two instances of one deployment, each with its own change feed, as two `pgpress serve` run them.
const instances: Store[] = [];
for (let i = 0; i < 2; i++) {
  const store = await cachedStore(db.url, redis.url, namespace);
  const feedRedis = cacheRedis(redis.url);
  await ready(feedRedis);
  const feed = await startCacheChangeFeed({ url: db.url, cache: store.cache!, redis: feedRedis, namespace, log: createLogger('silent'), pollMs: 60_000 });
  after(() => feed.stop());
  instances.push(store);
}

// Every message on the cache's invalidation channel.
const heard: string[] = [];
const listener = cacheRedis(redis.url);
await ready(listener);
listener.on('message', (_channel: string, m: string) => heard.push(m));
await listener.subscribe(`pgpress:cache:${namespace}:invalidate`);

const psql = new pg.Client({ connectionString: db.url });
psql.on('error', () => undefined);
await psql.connect();
after(() => psql.end());
const author = (await psql.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('path@example.com', 'path_author', 'Path') RETURNING id")).rows[0]!.id;

async function published(slug: string): Promise<number> {
  const r = await psql.query<{ id: string }>("INSERT INTO articles (author_id, title, slug, status, published_at) VALUES ($1, 'before', $2, 'published', now()) RETURNING id", [author, slug]);
  return Number(r.rows[0]!.id);
}

/** Waits until every instance serves title for id (each from its own L1 once it holds it). */
async function allServe(id: number, title: string): Promise<void> {
  const t0 = Date.now();
  for (const s of instances) {
    while ((await s.articles.get(id)).title !== title) {
      assert.ok(Date.now() - t0 < BOUND_MS, `an instance still serves the old title ${Date.now() - t0} ms after the commit`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** Both instances hold the article in L1 (read twice each). */
async function cachedEverywhere(id: number): Promise<void> {
  for (const s of instances) for (let i = 0; i < 2; i++) assert.equal((await s.articles.get(id)).title, 'before');
}

test('a psql UPDATE invalidates both instances through their change feeds, with no pub/sub message', async () => {
  const id = await published('by-psql');
  await cachedEverywhere(id);
  await new Promise((r) => setTimeout(r, 200)); // the INSERT's own log row delivered
  heard.length = 0;
  await psql.query("UPDATE articles SET title = 'after psql' WHERE id = $1", [id]);
  await allServe(id, 'after psql');
  await new Promise((r) => setTimeout(r, 300)); // anything still on its way
  assert.deepEqual(heard, [], 'the change feed republished what every instance reads from the database itself');
});

test('a write through one instance reaches the other in one pub/sub message, and both serve it', async () => {
  const id = await published('by-write');
  await cachedEverywhere(id);
  await new Promise((r) => setTimeout(r, 200));
  heard.length = 0;
  const a = await instances[0]!.articles.get(id);
  await instances[0]!.articles.update(id, a.version, { title: 'after write' }, { actorId: Number(author) });
  await allServe(id, 'after write');
  await new Promise((r) => setTimeout(r, 300)); // the feeds have read the change's log row by now
  assert.equal(heard.length, 1, `one change, one message; heard ${heard.length}: ${heard.join(' | ')}`);
  assert.ok(JSON.parse(heard[0]!).l !== '', 'the message carries the commit position');
});
