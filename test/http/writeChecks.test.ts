// Ownership and visibility checks of writes read the primary, inside the write's transaction: a
// lagging replica can neither hide an owner's new article nor show an archived one as open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/http/app.ts';
import { migrate } from '../../src/migrate/index.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { inRotation } from '../harness/inRotation.ts';
import { startCluster, type PgReplica, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster;
let replica: PgReplica;
let store: Store;
let app: FastifyInstance;
const tokens = tokenService('w'.repeat(40));
const bearer = (userId: number, role: 'author' | 'editor' = 'author'): string => `Bearer ${tokens.sign({ userId, role })}`;

before(async () => {
  pgc = await startCluster({ replicas: 1 });
  replica = pgc.replicas[0]!;
  await migrate({ url: pgc.primary.url, dir: 'migrations' });
  await pgc.waitForReplica(replica);
  // A long lag bound: a tokenless read may be served by the paused replica.
  store = await createStore({
    url: pgc.primary.url,
    replicaUrls: [replica.url],
    pool: { max: 4, replicas: { maxLagMs: 60_000, rejoinAfterMs: 1_000, monitorIntervalMs: 100, probeTimeoutMs: 500, rywWaitMs: 100 } },
  });
  await store.cluster.ready();
  app = await buildApp({ store, tokens, shedEventLoopDelayMs: 0, rateLimit: { max: 0, windowMs: 60_000 } });
});

after(async () => {
  await app?.close();
  await store?.close();
  await pgc?.destroy();
});

/** Waits until the replica serves reads again (a long pause may have taken it out of rotation). */
async function replicaInRotation(): Promise<void> {
  await pgc.waitForReplica(replica);
  await inRotation(store);
}

async function user(name: string): Promise<number> {
  const u = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: `${name}@example.com`, username: name, displayName: name } });
  assert.equal(u.statusCode, 201, u.body);
  return u.json().id;
}

test('an owner edits, publishes and archives an article the lagging replica has not seen yet', async () => {
  const owner = await user('owner1');
  const other = await user('other1');
  await replicaInRotation();
  await replica.pauseReplay();
  try {
    const a = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(owner) }, payload: { title: 'Just made' } });
    assert.equal(a.statusCode, 201, a.body);
    const id = a.json().id;
    // Asked of the replica itself: through the API the owner's read of a draft (hidden from the
    // replica's context-free read) is read again with the owner's row-level security context on the primary.
    const onReplica = new pg.Client({ connectionString: replica.url });
    await onReplica.connect();
    const seen = (await onReplica.query('SELECT count(*)::int AS n FROM articles WHERE id = $1', [id]).finally(() => onReplica.end())).rows[0].n;
    assert.equal(seen, 0, 'the replica has not seen it (the premise)');
    // No x-pgpress-lsn header: the client forgot it, or it is another client of the same owner.
    const stranger = await app.inject({ method: 'PATCH', url: `/v1/articles/${id}`, headers: { authorization: bearer(other) }, payload: { version: 1, title: 'Hijack' } });
    assert.equal(stranger.statusCode, 403, `another author is refused on the primary's row: ${stranger.body}`);
    const patched = await app.inject({ method: 'PATCH', url: `/v1/articles/${id}`, headers: { authorization: bearer(owner) }, payload: { version: 1, title: 'Edited' } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().title, 'Edited');
    const published = await app.inject({ method: 'POST', url: `/v1/articles/${id}/publish`, headers: { authorization: bearer(owner) }, payload: { version: 2 } });
    assert.equal(published.statusCode, 200, published.body);
    const archived = await app.inject({ method: 'POST', url: `/v1/articles/${id}/archive`, headers: { authorization: bearer(owner) }, payload: { version: 3 } });
    assert.equal(archived.statusCode, 200, archived.body);
    const missing = await app.inject({ method: 'PATCH', url: '/v1/articles/987654', headers: { authorization: bearer(owner) }, payload: { version: 1, title: 'x' } });
    assert.equal(missing.statusCode, 404, missing.body);
  } finally {
    await replica.resumeReplay();
  }
});

test('a comment on an article archived a moment ago is refused, though the replica still shows it published', async () => {
  const owner = await user('owner2');
  const reader = await user('reader2');
  const a = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(owner) }, payload: { title: 'Soon gone', status: 'published' } });
  assert.equal(a.statusCode, 201, a.body);
  const id = a.json().id;
  await replicaInRotation();
  await replica.pauseReplay();
  try {
    const archived = await app.inject({ method: 'POST', url: `/v1/articles/${id}/archive`, headers: { authorization: bearer(owner) }, payload: { version: a.json().version } });
    assert.equal(archived.statusCode, 200, archived.body);
    const stale = await app.inject({ url: `/v1/articles/${id}`, headers: { authorization: bearer(owner) } });
    assert.equal(stale.json().status, 'published', `the replica still shows it published (the premise): ${stale.body} ${(await app.inject('/readyz')).body}`);
    const c = await app.inject({ method: 'POST', url: `/v1/articles/${id}/comments`, headers: { authorization: bearer(reader) }, payload: { body: 'late' } });
    assert.equal(c.statusCode, 404, c.body);
    assert.equal(c.json().code, 'PGP_NOT_FOUND');
    const own = await app.inject({ method: 'POST', url: `/v1/articles/${id}/comments`, headers: { authorization: bearer(owner) }, payload: { body: 'note to self' } });
    assert.equal(own.statusCode, 201, `its author may still comment: ${own.body}`);
  } finally {
    await replica.resumeReplay();
  }
  const rows = await pgc.primary.query<{ n: string }>('SELECT count(*) AS n FROM comments WHERE article_id = $1 AND author_id = $2', [id, reader]);
  const n = rows[0]?.n;
  assert.equal(Number(n), 0, 'nothing was written for the refused comment');
});
