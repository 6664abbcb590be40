// The content repositories through the Store: versioned article writes, comments, events, audit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createStore } from '../../src/store.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { url } = await testDatabase();
const store = await createStore({ url, pool: { max: 4 } });
const c = new pg.Client({ connectionString: url });
c.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await c.connect();
after(async () => {
  await c.end();
  await store.close();
});

const code = (name: string) => (e: unknown): boolean => isPgpressError(e) && e.code === name;
const ada = await store.users.create({ email: 'ada@example.com', username: 'ada', displayName: 'Ada' });
const bob = await store.users.create({ email: 'bob@example.com', username: 'bob', displayName: 'Bob' });

test('a stale version is refused with PGP_CONFLICT; the current one wins', async () => {
  const a = await store.articles.create({ authorId: ada.id, title: 'Draft one', tags: ['pg'] });
  const edited = await store.articles.update(a.id, a.version, { title: 'Draft one, edited', metadata: { lang: 'en' } }, { actorId: ada.id });
  assert.equal(edited.version, a.version + 1);
  await assert.rejects(store.articles.update(a.id, a.version, { title: 'lost update' }), (e: unknown) => code('PGP_CONFLICT')(e) && /version 2, not 1/.test((e as Error).message));
  await assert.rejects(store.articles.update(999_999, 1, { title: 'x' }), code('PGP_NOT_FOUND'));
  const pub = await store.articles.publish(a.id, edited.version, { actorId: ada.id });
  assert.equal(pub.status, 'published');
  assert.ok(pub.publishedAt);
  await assert.rejects(store.articles.archive(a.id, edited.version), code('PGP_CONFLICT'));
  const arch = await store.articles.archive(a.id, pub.version, { actorId: ada.id });
  assert.equal(arch.status, 'archived');
  assert.equal((await store.articles.getBySlug(a.slug)).id, a.id);
  // The audit log names the actor of each versioned write.
  const audit = await c.query<{ operation: string; actor_id: string | null }>("SELECT operation, actor_id FROM audit_log WHERE table_name = 'articles' AND row_id = $1 ORDER BY id", [a.id]);
  assert.deepEqual(audit.rows.map((r) => [r.operation, r.actor_id === null ? null : Number(r.actor_id)]), [
    ['INSERT', ada.id], ['UPDATE', ada.id], ['UPDATE', ada.id], ['UPDATE', ada.id],
  ]);
  // Tags register themselves in the vocabulary.
  assert.equal((await c.query("SELECT 1 FROM tags WHERE name = 'pg'")).rowCount, 1);
});

test('comments thread on one article, list in order, and soft-delete by their author only', async () => {
  const a = await store.articles.create({ authorId: ada.id, title: 'Threads', status: 'published' });
  const other = await store.articles.create({ authorId: ada.id, title: 'Elsewhere', status: 'published' });
  const root = await store.comments.create({ articleId: a.id, authorId: bob.id, body: 'First!' });
  const reply = await store.comments.create({ articleId: a.id, authorId: ada.id, parentId: root.id, body: 'Welcome' });
  await assert.rejects(store.comments.create({ articleId: other.id, authorId: bob.id, parentId: root.id, body: 'cross-thread' }), code('PGP_UNPROCESSABLE'));
  await assert.rejects(store.comments.delete(root.id, { actorId: ada.id }), code('PGP_FORBIDDEN'));
  const deleted = await store.comments.delete(root.id, { actorId: bob.id });
  assert.ok(deleted.deletedAt);
  const list = await store.comments.list(a.id);
  assert.deepEqual(list.map((x) => [x.id, x.parentId, x.body]), [[root.id, null, null], [reply.id, root.id, 'Welcome']]);
  assert.deepEqual((await store.comments.list(a.id, { afterId: root.id })).map((x) => x.id), [reply.id]);
});

test('events are ingested one at a time and in one-statement batches, with the rules in the schema', async () => {
  const a = await store.articles.create({ authorId: ada.id, title: 'Counted', status: 'published' });
  await store.events.record({ articleId: a.id, userId: bob.id, kind: 'like' });
  const n = await store.events.recordBatch(Array.from({ length: 500 }, (_, i) => ({ articleId: a.id, userId: i % 2 ? bob.id : null, kind: 'view' as const })));
  assert.equal(n, 500);
  const counts = await store.events.counts(a.id, new Date(Date.now() - 60_000), new Date(Date.now() + 60_000));
  assert.deepEqual(counts, { like: 1, view: 500 });
  await assert.rejects(store.events.recordBatch([{ articleId: a.id, kind: 'view' }, { articleId: 987_654, kind: 'view' }]), code('PGP_UNPROCESSABLE'));
  assert.equal((await store.events.counts(a.id, new Date(0), new Date(Date.now() + 60_000))).view, 500, 'a failed batch adds nothing');
  await assert.rejects(store.events.record({ articleId: a.id, kind: 'read_time' }), code('PGP_VALIDATION'));
  // The database enforces it too, not only the repository.
  await assert.rejects(c.query("INSERT INTO article_events (article_id, kind, read_ms) VALUES ($1, 'view', 10)", [a.id]), /article_events_read_ms_iff_read_time/);
});

test('profiles update, and the feed and search skip drafts', async () => {
  const u = await store.users.update(bob.id, { bio: 'Reads a lot' });
  assert.equal(u.bio, 'Reads a lot');
  assert.equal(u.displayName, 'Bob');
  await store.articles.create({ authorId: ada.id, title: 'Secret walrus plans', body: 'walrus' });
  const pub = await store.articles.create({ authorId: ada.id, title: 'Public walrus notes', body: 'The walrus sleeps.', status: 'published' });
  const hits = await store.search.articles('walrus');
  assert.deepEqual(hits.map((h) => h.id), [pub.id]);
  const feed = await store.feed.page({ limit: 100 });
  assert.ok(feed.items.some((i) => i.id === pub.id) && !feed.items.some((i) => i.title.startsWith('Secret')));
  await assert.rejects(store.feed.page({ cursor: 'bogus' }), code('PGP_VALIDATION'));
});
