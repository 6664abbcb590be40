// A single-statement write in ONE network round trip (Cluster.txStatement, src/db/pipeline.ts):
// counted by a proxy in front of the server, against tx()'s four. The audit trigger and row-level
// security see the actor and role set in the same message; a server error is definite with
// nothing committed; an answer lost after the message left is PGP_OUTCOME_UNKNOWN.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createStore } from '../../src/store.ts';
import { insertComment } from '../../src/content/comments/queries.ts';
import { newSession } from '../../src/db/session.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { clusterFactory, code } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { turnProxy } from './roundTripsProxy.ts';

const db = await testDatabase();
const store = await createStore({ url: db.url, pool: { max: 2 } });
const admin = new pg.Client({ connectionString: db.url });
admin.on('error', () => undefined);
await admin.connect();
after(async () => {
  await admin.end();
  await store.close();
});
const ada = await store.users.create({ email: 'ada@example.com', username: 'ada', displayName: 'Ada' });
const bob = await store.users.create({ email: 'bob@example.com', username: 'bob', displayName: 'Bob' });
const draft = await store.articles.create({ authorId: ada.id, title: 'Ada draft' });
const other = await store.articles.create({ authorId: ada.id, title: 'Other' });
const proxy = await turnProxy(Number(new URL(db.appUrl).port || 5432));
// As the application role: row-level security applies (a superuser would bypass it).
const cluster = clusterFactory(proxy.url(db.appUrl))({ lanes: { default: { max: 1 } } });
await cluster.query({ name: 'warm', text: 'SELECT 1' }); // the connection's start-up is not counted

const commentsOf = async (articleId: number): Promise<string[]> =>
  (await admin.query<{ body: string }>('SELECT body FROM comments WHERE article_id = $1 ORDER BY id', [articleId])).rows.map((r) => r.body);

test('a comment through txStatement costs one round trip; the audit entry names the actor, RLS sees actor and role', async () => {
  const session = newSession();
  proxy.reset();
  const r = await cluster.txStatement<{ id: string }>(insertComment, [draft.id, ada.id, null, 'one trip'], { actorId: String(ada.id), role: 'author', session });
  assert.equal(proxy.turns, 1, 'BEGIN, context, INSERT, COMMIT and the LSN in one round trip');
  assert.equal(r.value.rowCount, 1);
  assert.match(r.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
  assert.equal(session.token, r.lsn, 'the commit LSN is the session token');
  const audit = await admin.query<{ actor_id: string; actor_role: string }>("SELECT actor_id::text, actor_role FROM audit_log WHERE table_name = 'comments' AND row_id = $1", [r.value.rows[0]!.id]);
  assert.deepEqual(audit.rows.map((a) => [Number(a.actor_id), a.actor_role]), [[ada.id, 'author']]);
  // The same write as tx(): four round trips (the baseline the bench compares with).
  proxy.reset();
  await cluster.tx((q) => q.query(insertComment, [draft.id, ada.id, null, 'four trips']), { actorId: String(ada.id), role: 'author' });
  assert.equal(proxy.turns, 4);
  // Row-level security reads the context of the same message: bob, an author, may not comment on ada's draft…
  proxy.reset();
  const refused = await cluster.txStatement(insertComment, [draft.id, bob.id, null, 'not mine'], { actorId: String(bob.id), role: 'author' }).then(() => undefined, (e: unknown) => e);
  assert.ok(isPgpressError(refused) && refused.code !== 'PGP_OUTCOME_UNKNOWN', `a definite refusal, got ${code(refused)}`);
  assert.equal(refused.pg?.sqlstate, '42501');
  // …as an editor he may.
  await cluster.txStatement(insertComment, [draft.id, bob.id, null, 'as editor'], { actorId: String(bob.id), role: 'editor' });
  assert.deepEqual(await commentsOf(draft.id), ['one trip', 'four trips', 'as editor']);
});

test('a constraint violation is a definite error: nothing committed, no token, the connection reused', async () => {
  const session = newSession();
  const audited = async (): Promise<number> => (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE table_name = 'comments'")).rows[0]!.n;
  const parent = await cluster.txStatement<{ id: string }>(insertComment, [draft.id, ada.id, null, 'parent'], { actorId: String(ada.id), role: 'author' });
  const before = await audited();
  const err = await cluster
    .txStatement(insertComment, [other.id, ada.id, Number(parent.value.rows[0]!.id), 'parent on another article'], { actorId: String(ada.id), role: 'author', session })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(isPgpressError(err) && err.code !== 'PGP_OUTCOME_UNKNOWN', `a definite error, got ${code(err)}`);
  assert.equal(err.pg?.sqlstate, '23503');
  assert.equal(session.token, undefined, 'no token for a write that did not commit');
  assert.deepEqual(await commentsOf(other.id), []);
  assert.equal(await audited(), before, 'no audit entry either');
  proxy.reset();
  await cluster.txStatement(insertComment, [other.id, ada.id, null, 'after the error'], { actorId: String(ada.id), role: 'author' });
  assert.equal(proxy.turns, 1, 'the connection is clean again: the next write is one round trip');
});

test('an answer lost after the message reached the server is PGP_OUTCOME_UNKNOWN (and here the write did commit)', async () => {
  proxy.cutAfterNextFlight();
  const err = await cluster
    .txStatement(insertComment, [other.id, ada.id, null, 'in doubt'], { actorId: String(ada.id), role: 'author' })
    .then(() => undefined, (e: unknown) => e);
  assert.equal(code(err), 'PGP_OUTCOME_UNKNOWN');
  assert.deepEqual((await commentsOf(other.id)).slice(-1), ['in doubt'], 'it committed: retrying it would have written it twice');
  // The pool recovers: a new connection, one round trip per write again (after its start-up).
  await cluster.query({ name: 'warm', text: 'SELECT 1' });
  proxy.reset();
  await cluster.txStatement(insertComment, [other.id, ada.id, null, 'recovered'], { actorId: String(ada.id), role: 'author' });
  assert.equal(proxy.turns, 1);
});

test('through the store: creating an article, a comment and an event with a context is one round trip each', async () => {
  const viaProxy = await createStore({ url: proxy.url(db.appUrl), pool: { max: 1 } });
  after(() => viaProxy.close());
  await viaProxy.cluster.query({ name: 'warm', text: 'SELECT 1' });
  const ctx = { actorId: ada.id, role: 'author' };
  proxy.reset();
  const a = await viaProxy.articles.create({ authorId: ada.id, title: 'One trip article' }, ctx);
  assert.equal(proxy.turns, 1, 'articles.create');
  proxy.reset();
  await viaProxy.comments.create({ articleId: a.id, authorId: ada.id, body: 'one trip comment' }, ctx);
  assert.equal(proxy.turns, 1, 'comments.create');
  proxy.reset();
  await viaProxy.events.record({ articleId: a.id, userId: ada.id, kind: 'view' }, ctx);
  assert.equal(proxy.turns, 1, 'events.record');
  const audit = await admin.query<{ table_name: string; actor_id: string }>("SELECT table_name, actor_id::text FROM audit_log WHERE actor_id = $1 AND table_name = 'articles' AND row_id = $2", [ada.id, a.id]);
  assert.equal(audit.rowCount, 1);
});

test('each step of a one-trip write is prepared once per connection (no re-planning); unnamed behind a transaction pooler', async () => {
  const preparedNames = async (c: typeof cluster): Promise<string[]> =>
    (await c.query<{ name: string }>({ name: 'test.rt.prepared', text: "SELECT name FROM pg_prepared_statements WHERE name LIKE 'pgpress.pipe.%' ORDER BY name" })).rows.map((r) => r.name);
  await cluster.txStatement(insertComment, [other.id, ada.id, null, 'prepared'], { actorId: String(ada.id), role: 'author' });
  assert.deepEqual(await preparedNames(cluster), [
    'pgpress.pipe.begin.read committed', 'pgpress.pipe.comments.insert', 'pgpress.pipe.commit', 'pgpress.pipe.context', 'pgpress.pipe.lsn',
  ]);
  proxy.reset();
  await cluster.txStatement(insertComment, [other.id, ada.id, null, 'bound only'], { actorId: String(ada.id), role: 'author' });
  assert.equal(proxy.turns, 1);
  const pooled = clusterFactory(db.appUrl)({ lanes: { default: { max: 1 } }, namedStatements: false });
  await pooled.txStatement(insertComment, [other.id, ada.id, null, 'unnamed'], { actorId: String(ada.id), role: 'author' });
  assert.deepEqual(await preparedNames(pooled), [], 'namedStatements: false (PgBouncer in transaction mode) prepares nothing');
  assert.deepEqual((await commentsOf(other.id)).slice(-3), ['prepared', 'bound only', 'unnamed']);
});

test('once prepared, a one-trip write sends Bind and Execute per step and one Sync: no Parse, no Describe; rows typed as before', async () => {
  const ctx = { actorId: String(ada.id), role: 'author' };
  await cluster.txStatement(insertComment, [other.id, ada.id, null, 'described'], ctx);
  proxy.reset();
  const r = await cluster.txStatement<{ id: string; created_at: Date }>(insertComment, [other.id, ada.id, null, 'described once'], ctx);
  // BEGIN, context, INSERT, COMMIT, LSN: 5 Binds, 5 Executes, 1 Sync (each step's rows described once per connection).
  assert.deepEqual(proxy.messages, { B: 5, E: 5, S: 1 });
  const direct = await admin.query(insertComment, [other.id, ada.id, null, 'direct']);
  assert.deepEqual(r.value.fields.map((f) => [f.name, f.dataTypeID]), direct.fields.map((f) => [f.name, f.dataTypeID]));
  assert.deepEqual(Object.keys(r.value.rows[0]!), Object.keys(direct.rows[0]!));
  assert.ok(r.value.rows[0]!.created_at instanceof Date, 'typed by the kept description');
  assert.match(r.lsn, /^[0-9A-F]+\/[0-9A-F]+$/, 'the LSN row parsed by the kept description');
});
