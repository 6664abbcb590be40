// The cache behind the HTTP API: drafts and archived articles never leak from a shared entry,
// and a write on one instance reaches another instance's cached answer through Redis pub/sub.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { buildApp } from '../../src/http/app.ts';
import { tokenService } from '../../src/security/tokens.ts';
import type { Store } from '../../src/store.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { startOwnRedis } from '../harness/testRedis.ts';
import { cachedStore, freshNamespace } from './cacheHarness.ts';

const tokens = tokenService('c'.repeat(40));
const { url } = await testDatabase();
const redis = await startOwnRedis();
const ns = freshNamespace();

async function appOn(store: Store): Promise<Awaited<ReturnType<typeof buildApp>>> {
  const app = await buildApp({ store, tokens, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  after(() => app.close());
  return app;
}

const storeA = await cachedStore(url, redis.url, ns);
const storeB = await cachedStore(url, redis.url, ns);
const a = await appOn(storeA);
const b = await appOn(storeB);
const bearer = (userId: number, role = 'author'): string => `Bearer ${tokens.sign({ userId, role: role as 'author' })}`;

test('a draft: its author sees it, an anonymous reader gets 404, before and after caching; archived likewise', async () => {
  const author = await storeA.users.create({ email: 'd@example.com', username: 'drafter', displayName: 'D' });
  const draft = await storeA.articles.create({ authorId: author.id, title: 'Secret draft', status: 'draft' });
  for (const path of [`/v1/articles/${draft.id}`, `/v1/articles/by-slug/${draft.slug}`]) {
    for (let round = 0; round < 2; round++) {
      for (const app of [a, b]) {
        const own = await app.inject({ url: path, headers: { authorization: bearer(author.id) } });
        assert.equal(own.statusCode, 200, own.body);
        assert.equal(own.json().status, 'draft');
        const anon = await app.inject({ url: path });
        assert.equal(anon.statusCode, 404, `anonymous read of a draft (${path}, round ${round}): ${anon.body}`);
        const other = await app.inject({ url: path, headers: { authorization: bearer(author.id + 1000) } });
        assert.equal(other.statusCode, 404, 'another author does not see it either');
      }
    }
  }
  // Published: everyone sees it, and it is cached on both instances.
  const pub = await a.inject({ method: 'POST', url: `/v1/articles/${draft.id}/publish`, headers: { authorization: bearer(author.id) }, payload: { version: draft.version } });
  assert.equal(pub.statusCode, 200, pub.body);
  for (const app of [a, b]) for (let i = 0; i < 2; i++) assert.equal((await app.inject({ url: `/v1/articles/${draft.id}` })).statusCode, 200);
  // Archived on A: the cached published copy must not be served to anonymous readers on A or B.
  const arch = await a.inject({ method: 'POST', url: `/v1/articles/${draft.id}/archive`, headers: { authorization: bearer(author.id) }, payload: { version: pub.json().version } });
  assert.equal(arch.statusCode, 200, arch.body);
  const token = arch.headers['x-pgpress-lsn'] as string;
  assert.equal((await a.inject({ url: `/v1/articles/${draft.id}` })).statusCode, 404, 'the writing instance drops its entry on commit');
  assert.equal((await b.inject({ url: `/v1/articles/${draft.id}`, headers: { 'x-pgpress-lsn': token } })).statusCode, 404, 'another instance, with the token, never serves the older entry');
  const own = await b.inject({ url: `/v1/articles/${draft.id}`, headers: { authorization: bearer(author.id), 'x-pgpress-lsn': token } });
  assert.equal(own.json().status, 'archived', 'its author, with the token, reads the archived row on B');
  // Without a token B serves what it holds until the invalidation reaches it over pub/sub (milliseconds).
  const t0 = Date.now();
  let status = 0;
  while (Date.now() - t0 < 2_000 && (status = (await b.inject({ url: `/v1/articles/${draft.id}` })).statusCode) !== 404) await new Promise((r) => setTimeout(r, 5));
  assert.equal(status, 404, 'B stops serving the archived article to anonymous readers once it hears the invalidation');
});

test('an update on instance A reaches the article B has cached within 1 s (pub/sub), without a token', async () => {
  const author = await storeA.users.create({ email: 'u@example.com', username: 'updater', displayName: 'U' });
  const art = await storeA.articles.create({ authorId: author.id, title: 'Before', status: 'published' });
  for (let i = 0; i < 3; i++) assert.equal((await b.inject({ url: `/v1/articles/${art.id}` })).json().title, 'Before');
  const res = await a.inject({ method: 'PATCH', url: `/v1/articles/${art.id}`, headers: { authorization: bearer(author.id) }, payload: { version: art.version, title: 'After' } });
  assert.equal(res.statusCode, 200, res.body);
  const t0 = Date.now();
  let title = '';
  while (Date.now() - t0 < 1_000) {
    title = (await b.inject({ url: `/v1/articles/${art.id}` })).json().title;
    if (title === 'After') break;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(title, 'After', 'B served the new title within 1 s of the commit');
  // And the feed and search entries B holds are dropped too.
  const feed = (await b.inject({ url: '/v1/feed?limit=5' })).json();
  assert.ok(feed.items.some((i: { id: number; title: string }) => i.id === art.id && i.title === 'After'), JSON.stringify(feed));
});
