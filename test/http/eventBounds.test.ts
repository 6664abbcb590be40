// Event ingestion cannot be abused: occurredAt is bounded on both sides, and an anonymous event on
// an article nobody may see is answered exactly like one on a missing article.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../src/db/sql.ts';
import { EVENT_MAX_FUTURE_SKEW_MS } from '../../src/content/events/repository.ts';
import { testApp } from '../harness/testApp.ts';

const eventsOf = sql('test.eventsOf', 'SELECT count(*)::int AS n FROM article_events WHERE article_id = $1');

const { app, store, owner, bearer } = await testApp();
const author = await store.users.create({ email: 'ev@example.com', username: 'evan', displayName: 'Evan' });
const stranger = await store.users.create({ email: 'st@example.com', username: 'stranger', displayName: 'S' });
const editor = await store.users.create({ email: 'ed@example.com', username: 'editor', displayName: 'E' });
const published = await store.articles.create({ authorId: author.id, title: 'Open', status: 'published' });
const draft = await store.articles.create({ authorId: author.id, title: 'Not yet' });
const gone = await store.articles.create({ authorId: author.id, title: 'Gone', status: 'published' });
await store.articles.archive(gone.id, gone.version, { actorId: author.id }); // row-level security: a write names its actor

const post = (url: string, payload: object, authorization?: string) =>
  app.inject({ method: 'POST', url, payload, headers: authorization ? { authorization } : {} });
const count = async (id: number): Promise<number> => (await store.cluster.query<{ n: number }>(eventsOf, [id])).rows[0]!.n;
const at = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();
const DAY = 86_400_000;

test('occurredAt may not lie in the future beyond a small skew, nor before the retention window', async () => {
  const before = await count(published.id);
  for (const occurredAt of [at(DAY), at(365 * DAY), at(EVENT_MAX_FUTURE_SKEW_MS + 60_000), at(-14 * 31 * DAY), '1970-01-01T00:00:00Z']) {
    const one = await post('/v1/events', { articleId: published.id, kind: 'view', occurredAt });
    assert.equal(one.statusCode, 400, `${occurredAt}: ${one.body}`);
    assert.equal(one.json().code, 'PGP_VALIDATION');
    assert.match(one.json().message, /occurredAt/);
  }
  // One bad event refuses the whole batch: 1,000 future-dated views cannot slip in beside a good one.
  const events = [{ articleId: published.id, kind: 'view', occurredAt: at(-1000) }, ...Array.from({ length: 999 }, (_, i) => ({ articleId: published.id, kind: 'view', occurredAt: at((i + 1) * 30 * DAY) }))];
  const batch = await post('/v1/events/batch', { events });
  assert.equal(batch.statusCode, 400, batch.body);
  assert.equal(await count(published.id), before, 'nothing was written');
  // Within the bounds: a minute ago, a few seconds ahead (clock skew), months back inside retention.
  for (const occurredAt of [at(-60_000), at(5_000), at(-300 * DAY)]) {
    const ok = await post('/v1/events', { articleId: published.id, kind: 'view', occurredAt });
    assert.equal(ok.statusCode, 202, `${occurredAt}: ${ok.body}`);
  }
  assert.equal(await count(published.id), before + 3);
});

test('anonymous events on a draft or archived article get the answer a missing article gets', async () => {
  const missing = await post('/v1/events', { articleId: 987_654_321, kind: 'view' });
  assert.equal(missing.statusCode, 422, missing.body);
  const shape = (r: typeof missing): unknown => ({ status: r.statusCode, code: r.json().code, message: r.json().message });
  for (const a of [draft, gone]) {
    assert.deepEqual(shape(await post('/v1/events', { articleId: a.id, kind: 'view' })), shape(missing), `article ${a.status}`);
    assert.deepEqual(shape(await post('/v1/events/batch', { events: [{ articleId: a.id, kind: 'like' }] })), shape(missing));
    assert.deepEqual(shape(await post('/v1/events', { articleId: a.id, kind: 'view' }, bearer(stranger.id))), shape(missing), 'another author is a stranger too');
    assert.equal(await count(a.id), 0);
  }
  // Who may see the draft may record events on it.
  assert.equal((await post('/v1/events', { articleId: draft.id, kind: 'view' }, bearer(author.id))).statusCode, 202);
  assert.equal((await post('/v1/events', { articleId: gone.id, kind: 'view' }, bearer(editor.id, 'editor'))).statusCode, 202);
});

test('the 7- and 30-day figures end at now: rows dated in the future (written before the bound) do not count', async () => {
  const a = await store.articles.create({ authorId: author.id, title: 'Counted now', status: 'published' });
  const insert = sql('test.datedView', "INSERT INTO article_events (article_id, kind, occurred_at) VALUES ($1, 'view', now() + $2::interval)");
  await store.cluster.query(insert, [a.id, '-1 hour']);
  await store.cluster.query(insert, [a.id, '2 days']);
  await store.cluster.query(insert, [a.id, '20 days']);
  await owner.analytics.refresh('article_analytics', { force: true });
  const stats = (await app.inject(`/v1/analytics/articles/${a.id}`)).json();
  assert.equal(stats.views7d, 1, JSON.stringify(stats));
  assert.equal(stats.views30d, 1);
  assert.equal(stats.engagement7d, 1);
  assert.equal(stats.engagement30d, 1);
});
