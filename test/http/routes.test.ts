// Every content route over HTTP: the behaviour callers rely on, status codes included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../src/db/sql.ts';
import { testApp } from '../harness/testApp.ts';

const auditOf = sql('test.articleAudit', "SELECT operation, actor_id::text FROM audit_log WHERE table_name = 'articles' AND row_id = $1 ORDER BY id");

const { app, store, owner, bearer } = await testApp();
const alice = await store.users.create({ email: 'alice@example.com', username: 'alice', displayName: 'Alice' });
const bob = await store.users.create({ email: 'bob@example.com', username: 'bob', displayName: 'Bob' });
const editor = await store.users.create({ email: 'ed@example.com', username: 'edith', displayName: 'Edith' });

type Json = Record<string, unknown> & { id: number; version: number };
async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, opts: { as?: string; body?: unknown } = {}): Promise<{ status: number; json: Json }> {
  const res = await app.inject({ method, url, headers: opts.as ? { authorization: opts.as } : {}, ...(opts.body === undefined ? {} : { payload: opts.body as object }) });
  return { status: res.statusCode, json: res.body ? (res.json() as Json) : ({} as Json) };
}

test('users: sign up, read (email private), update one\'s own profile only', async () => {
  const pub = await call('GET', `/v1/users/${alice.id}`);
  assert.equal(pub.status, 200);
  assert.equal(pub.json.email, undefined, 'email is private');
  assert.equal((await call('GET', `/v1/users/${alice.id}`, { as: bearer(alice.id) })).json.email, 'alice@example.com');
  const upd = await call('PATCH', `/v1/users/${alice.id}`, { as: bearer(alice.id), body: { bio: 'Writes about databases' } });
  assert.equal(upd.status, 200);
  assert.equal(upd.json.bio, 'Writes about databases');
  assert.equal((await call('PATCH', `/v1/users/${alice.id}`, { as: bearer(bob.id), body: { bio: 'hacked' } })).status, 403);
  assert.equal((await call('PATCH', `/v1/users/${alice.id}`, { body: { bio: 'anon' } })).status, 401);
  assert.equal((await call('PATCH', `/v1/users/${alice.id}`, { as: bearer(alice.id), body: { email: 'x@y.z' } })).status, 400, 'identity fields are not a profile');
});

test('articles: drafts are private, stale versions are 409, another author\'s article is 403', async () => {
  const created = await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: 'Draft on MVCC', body: 'Tuples and snapshots', tags: ['postgres'] } });
  assert.equal(created.status, 201);
  const a = created.json;
  assert.equal((await call('GET', `/v1/articles/${a.id}`)).status, 404, 'a draft is invisible to the public');
  assert.equal((await call('GET', `/v1/articles/${a.id}`, { as: bearer(bob.id) })).status, 404, 'and to other authors');
  assert.equal((await call('GET', `/v1/articles/${a.id}`, { as: bearer(editor.id, 'editor') })).status, 200, 'but not to editors');

  const edited = await call('PATCH', `/v1/articles/${a.id}`, { as: bearer(alice.id), body: { version: 1, title: 'MVCC, explained' } });
  assert.equal(edited.status, 200);
  assert.equal(edited.json.version, 2);
  const stale = await call('PATCH', `/v1/articles/${a.id}`, { as: bearer(alice.id), body: { version: 1, title: 'Lost update' } });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.code, 'PGP_CONFLICT');
  assert.equal((await call('PATCH', `/v1/articles/${a.id}`, { as: bearer(bob.id), body: { version: 2, title: 'Mine now' } })).status, 403);
  assert.equal((await call('PATCH', `/v1/articles/${a.id}`, { body: { version: 2, title: 'anon' } })).status, 401);

  const published = await call('POST', `/v1/articles/${a.id}/publish`, { as: bearer(editor.id, 'editor'), body: { version: 2 } });
  assert.equal(published.status, 200);
  assert.equal(published.json.status, 'published');
  assert.equal((await call('GET', `/v1/articles/${a.id}`)).status, 200, 'published is public');
  const bySlug = await call('GET', `/v1/articles/by-slug/${published.json.slug}`);
  assert.equal(bySlug.status, 200);
  assert.equal(bySlug.json.id, a.id);
  const archived = await call('POST', `/v1/articles/${a.id}/archive`, { as: bearer(alice.id), body: { version: 3 } });
  assert.equal(archived.json.status, 'archived');
  assert.equal((await call('GET', `/v1/articles/${a.id}`)).status, 404);
  assert.equal((await call('POST', '/v1/articles/987654/publish', { as: bearer(alice.id, 'admin'), body: { version: 1 } })).status, 404);
  // Each write reached PostgreSQL as its token's user: the audit log names who acted.
  const audit = await owner.cluster.query<{ operation: string; actor_id: string }>(auditOf, [a.id]);
  assert.deepEqual(audit.rows.map((r) => [r.operation, Number(r.actor_id)]), [
    ['INSERT', alice.id], ['UPDATE', alice.id], ['UPDATE', editor.id], ['UPDATE', alice.id],
  ]);
});

test('feed: published only, by tag or author, keyset pages via an opaque cursor', async () => {
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    const who = i % 2 === 0 ? alice.id : bob.id;
    const a = await call('POST', '/v1/articles', { as: bearer(who), body: { title: `Feed item ${i}`, status: 'published', tags: i < 3 ? ['feedtag'] : ['other'] } });
    ids.push(a.json.id);
  }
  await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: 'Unpublished feed item', tags: ['feedtag'] } });
  const first = await call('GET', '/v1/feed?limit=2');
  assert.equal((first.json.items as unknown[]).length, 2);
  const seen = new Set<number>();
  let cursor = first.json.nextCursor as string | null;
  for (const it of first.json.items as Json[]) seen.add(it.id);
  while (cursor) {
    const page = await call('GET', `/v1/feed?limit=2&cursor=${cursor}`);
    for (const it of page.json.items as Json[]) {
      assert.ok(!seen.has(it.id), 'no item repeats across pages');
      seen.add(it.id);
    }
    cursor = page.json.nextCursor as string | null;
  }
  for (const id of ids) assert.ok(seen.has(id), `published article ${id} is in the feed`);
  const tagged = (await call('GET', '/v1/feed?tag=feedtag&limit=100')).json.items as Json[];
  assert.deepEqual(tagged.map((x) => x.id).sort(), ids.slice(0, 3).sort());
  const byBob = (await call('GET', `/v1/feed?author=${bob.id}&limit=100`)).json.items as Json[];
  assert.ok(byBob.length >= 2 && byBob.every((x) => x.authorId === bob.id));
  assert.equal((await call('GET', '/v1/feed?limit=100000')).status, 200, 'page sizes are clamped, not refused');
  assert.equal((await call('GET', '/v1/feed?cursor=bogus')).status, 400);
  assert.equal((await call('GET', `/v1/feed?tag=x&author=${bob.id}`)).status, 400);
});

test('concurrent edits of one version: exactly one wins, the rest get 409, none is lost silently', async () => {
  const a = (await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: 'Race', body: 'start' } })).json;
  const edits = await Promise.all(
    Array.from({ length: 10 }, (_, i) => call('PATCH', `/v1/articles/${a.id}`, { as: bearer(alice.id), body: { version: a.version, body: `edit ${i}` } })),
  );
  const winners = edits.filter((e) => e.status === 200);
  assert.equal(winners.length, 1, JSON.stringify(edits.map((e) => e.status)));
  assert.ok(edits.every((e) => e.status === 200 || (e.status === 409 && e.json.code === 'PGP_CONFLICT')));
  const now = (await call('GET', `/v1/articles/${a.id}`, { as: bearer(alice.id) })).json;
  assert.equal(now.version, a.version + 1);
  assert.equal(now.body, winners[0]!.json.body);
});

test('search snippets are safe HTML: the article text escaped, only the matches marked', async () => {
  const body = 'Before <script>alert(1)</script> the wombatxq herd <img src=x onerror=alert(2)> & "quotes" \u0001 \u0002 stay text.';
  assert.equal((await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: 'Herding', body, status: 'published' } })).status, 201);
  const res = await call('GET', '/v1/search?q=wombatxq');
  const [hit] = res.json.items as Array<{ snippet: string }>;
  assert.ok(hit, JSON.stringify(res.json));
  assert.match(hit.snippet, /<mark>wombatxq<\/mark>/);
  const text = hit.snippet.replace(/<\/?mark>/g, '');
  for (const c of ['<', '>', '"', '\u0001', '\u0002']) assert.ok(!text.includes(c), `${JSON.stringify(c)} in ${hit.snippet}`);
  assert.match(hit.snippet, /&lt;img src=x onerror=alert\(2\)&gt; &amp; &quot;quotes&quot;/);
});

test('search: ranked, highlighted, paginated; typo-tolerant titles', async () => {
  for (let i = 0; i < 3; i++) {
    await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: `Vacuum tuning part ${i}`, body: `Autovacuum thresholds and vacuum cost limits, chapter ${i}.`, status: 'published' } });
  }
  const p1 = await call('GET', '/v1/search?q=vacuum&limit=2');
  assert.equal(p1.status, 200);
  const items = p1.json.items as Array<{ snippet: string; rank: number }>;
  assert.equal(items.length, 2);
  assert.match(items[0]!.snippet, /<mark>[Vv]acuum<\/mark>/);
  assert.ok(items[0]!.rank >= items[1]!.rank);
  assert.equal(p1.json.nextPage, 2);
  const p2 = await call('GET', '/v1/search?q=vacuum&limit=2&page=2');
  assert.equal((p2.json.items as unknown[]).length, 1);
  assert.equal(p2.json.nextPage, null);
  const typo = await call('GET', '/v1/search/titles?q=vacum%20tunning');
  assert.ok((typo.json.items as Array<{ title: string }>).some((t) => t.title.startsWith('Vacuum tuning')));
  assert.equal((await call('GET', '/v1/search')).status, 400, 'q is required');
});

test('comments: list, create, delete one\'s own only', async () => {
  const a = (await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: 'Commented', status: 'published' } })).json;
  const c = await call('POST', `/v1/articles/${a.id}/comments`, { as: bearer(bob.id), body: { body: 'Great read' } });
  assert.equal(c.status, 201);
  assert.equal(c.json.authorId, bob.id);
  const reply = await call('POST', `/v1/articles/${a.id}/comments`, { as: bearer(alice.id), body: { body: 'Thanks!', parentId: c.json.id } });
  assert.equal(reply.json.parentId, c.json.id);
  assert.equal((await call('POST', `/v1/articles/${a.id}/comments`, { body: { body: 'anon' } })).status, 401);
  const list = await call('GET', `/v1/articles/${a.id}/comments`);
  assert.deepEqual((list.json.items as Json[]).map((x) => x.id), [c.json.id, reply.json.id]);
  assert.equal((await call('DELETE', `/v1/comments/${c.json.id}`, { as: bearer(alice.id) })).status, 403);
  const del = await call('DELETE', `/v1/comments/${c.json.id}`, { as: bearer(bob.id) });
  assert.equal(del.status, 200);
  assert.ok(del.json.deletedAt);
  assert.equal(del.json.body, null);
  const draft = (await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: 'Hidden' } })).json;
  assert.equal((await call('GET', `/v1/articles/${draft.id}/comments`)).status, 404, "a draft's comments are hidden with it");
});

test('analytics follow the article\'s visibility: a draft\'s stats only for who may see it, top lists published only', async () => {
  const d = (await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: 'Unannounced' } })).json;
  for (let i = 0; i < 5; i++) assert.equal((await call('POST', '/v1/events', { as: bearer(alice.id), body: { articleId: d.id, kind: 'view' } })).status, 202);
  await owner.analytics.refresh('article_analytics', { force: true });
  const statsAs = async (as?: string): Promise<number> => (await call('GET', `/v1/analytics/articles/${d.id}`, as ? { as } : {})).status;
  assert.equal(await statsAs(), 404, 'the public learns nothing of a draft');
  assert.equal(await statsAs(bearer(bob.id)), 404, 'nor do other authors');
  assert.equal(await statsAs(bearer(alice.id)), 200, 'its author sees its stats');
  assert.equal(await statsAs(bearer(editor.id, 'editor')), 200, 'and so do editors');
  const mine = await call('GET', `/v1/analytics/articles/${d.id}`, { as: bearer(alice.id) });
  assert.equal(mine.json.status, 'draft');
  assert.equal(mine.json.views, 5);
  for (const window of ['7d', '30d', 'all']) {
    const top = await call('GET', `/v1/analytics/top?window=${window}&limit=100`, { as: bearer(alice.id) });
    const items = top.json.items as Json[];
    assert.ok(items.length > 0 && items.every((x) => x.status === 'published' && x.articleId !== d.id), `${window}: ${JSON.stringify(items.map((x) => [x.articleId, x.status]))}`);
  }
});

test('events in (single and batch), analytics out from the views', async () => {
  const a = (await call('POST', '/v1/articles', { as: bearer(alice.id), body: { title: 'Popular', status: 'published' } })).json;
  assert.equal((await call('POST', '/v1/events', { body: { articleId: a.id, kind: 'view' } })).status, 202);
  const batch = await call('POST', '/v1/events/batch', {
    as: bearer(bob.id),
    body: { events: [{ articleId: a.id, kind: 'view' }, { articleId: a.id, kind: 'like' }, { articleId: a.id, kind: 'read_time', readMs: 42_000 }] },
  });
  assert.equal(batch.status, 202);
  assert.equal(batch.json.accepted, 3);
  assert.equal((await call('POST', '/v1/events', { body: { articleId: 987654, kind: 'view' } })).status, 422, 'unknown article');
  assert.equal((await call('POST', '/v1/events', { body: { articleId: a.id, kind: 'view', userId: 1 } })).status, 400, 'the user comes from the token, not the body');
  await owner.analytics.refresh('article_analytics', { force: true });
  await owner.analytics.refresh('user_engagement', { force: true });
  const stats = await call('GET', `/v1/analytics/articles/${a.id}`);
  assert.equal(stats.status, 200);
  assert.equal(stats.json.views, 2);
  assert.equal(stats.json.likes, 1);
  assert.equal(stats.json.readMsTotal, 42_000);
  assert.equal(stats.json.uniqueViewers, 1, 'the anonymous view has no viewer');
  const top = await call('GET', '/v1/analytics/top?window=all&limit=5');
  assert.equal((top.json.items as Json[])[0]!.articleId, a.id);
  const user = await call('GET', `/v1/analytics/users/${alice.id}`);
  assert.equal(user.status, 200);
  assert.ok((user.json.articlesWritten as number) >= 1);
});
