// The store's point reads by id are batched (src/db/pointReadBatch.ts, wired in src/store.ts):
// concurrent store.articles.get / users.get, and GET /v1/articles/:id through the HTTP app, reach
// PostgreSQL as a few statements, counted by a proxy in front of the server (one flight per
// statement here: reads outside a transaction); each caller keeps its own deadline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp } from '../../src/http/app.ts';
import { tokenService } from '../../src/security/tokens.ts';
import type { Article } from '../../src/content/articles/repository.ts';
import { createStore } from '../../src/store.ts';
import { code } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { turnProxy } from './roundTripsProxy.ts';

const N = 32;
const db = await testDatabase();
const proxy = await turnProxy(Number(new URL(db.appUrl).port || 5432));
// As the application role, through the proxy; 4 connections opened before counting.
const store = await createStore({ url: proxy.url(db.appUrl), pool: { max: 4 } });
const admin = new pg.Client({ connectionString: db.url });
admin.on('error', () => undefined);
await admin.connect();
after(async () => {
  await admin.end();
  await store.close();
});
const author = await store.users.create({ email: 'pr@example.com', username: 'pointreader', displayName: 'Point Reads' });
const articles: Article[] = [];
for (let i = 0; i < N; i++) articles.push(await store.articles.create({ authorId: author.id, title: `Batched ${i}`, status: 'published' }));
await Promise.all(Array.from({ length: 4 }, () => store.cluster.query({ name: 'test.prs.warm', text: 'SELECT pg_sleep(0.05)' })));

test(`${N} concurrent store.articles.get are two statements (the first alone, then one batch), each caller its own article`, async () => {
  proxy.reset();
  const got = await Promise.all(articles.map((a) => store.articles.get(a.id)));
  assert.deepEqual(got.map((a) => a.title), articles.map((a) => a.title));
  assert.ok(proxy.turns <= 2, `${proxy.turns} statements for ${N} point reads (one per read would be ${N})`);
  proxy.reset();
  const users = await Promise.all(Array.from({ length: 8 }, () => store.users.get(author.id)));
  assert.deepEqual(users.map((u) => u.email), Array.from({ length: 8 }, () => 'pr@example.com'));
  assert.ok(proxy.turns <= 2, `${proxy.turns} statements for 8 user reads`);
  // A missing article is still PGP_NOT_FOUND for its caller alone.
  const mixed = await Promise.allSettled([store.articles.get(articles[0]!.id), store.articles.get(999_999), store.articles.get(articles[1]!.id)]);
  assert.deepEqual(mixed.map((m) => m.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal(code((mixed[1] as PromiseRejectedResult).reason), 'PGP_NOT_FOUND');
});

test(`${N} concurrent GET /v1/articles/:id through the HTTP app share statements`, async () => {
  const app = await buildApp({ store, tokens: tokenService(randomBytes(32).toString('hex')), rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  after(() => app.close());
  await app.ready();
  proxy.reset();
  const res = await Promise.all(articles.map((a) => app.inject({ method: 'GET', url: `/v1/articles/${a.id}` })));
  assert.deepEqual(res.map((r) => r.statusCode), articles.map(() => 200));
  assert.deepEqual(res.map((r) => (r.json() as { title: string }).title), articles.map((a) => a.title));
  assert.ok(proxy.turns <= N / 4, `${proxy.turns} statements for ${N} requests (one per request would be ${N})`);
});

test("a caller's deadline fails that caller alone; the batch it was in answers the others", async () => {
  // Reads of articles wait while the table is locked: the lone read and the batch are held.
  await admin.query('BEGIN');
  await admin.query('LOCK TABLE articles IN ACCESS EXCLUSIVE MODE');
  const t0 = Date.now();
  const reads = Promise.allSettled([
    store.articles.get(articles[0]!.id),
    store.articles.get(articles[1]!.id, { deadline: Date.now() + 300 }),
    store.articles.get(articles[2]!.id, { deadline: Date.now() + 20_000 }),
  ]);
  setTimeout(() => void admin.query('COMMIT'), 1_000);
  const [lone, short, patient] = await reads;
  assert.equal(lone.status, 'fulfilled');
  assert.equal(short.status, 'rejected');
  assert.equal(code((short as PromiseRejectedResult).reason), 'PGP_DEADLINE_EXCEEDED');
  assert.equal(patient.status, 'fulfilled');
  assert.equal((patient as PromiseFulfilledResult<{ title: string }>).value.title, articles[2]!.title);
  assert.ok(Date.now() - t0 < 10_000);
});
