// A search hit's fields are those of the article it names: publishedAt (made from the column's text,
// without a Date) is the same string the article route gives (through a Date).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../harness/testApp.ts';

const { app, store, bearer } = await testApp();
const alice = await store.users.create({ email: 'alice@example.com', username: 'alice', displayName: 'Alice' });

test('search hits: publishedAt, title and slug as the article route gives them, snippet escaped', async () => {
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(alice.id) }, payload: { title: `Quokka census ${i}`, body: `The quokkaqz count <${i}> & "more".`, status: 'published' } });
    assert.equal(res.statusCode, 201, res.body);
    ids.push((res.json() as { id: number }).id);
  }
  const search = await app.inject({ method: 'GET', url: '/v1/search?q=quokkaqz&limit=10' });
  assert.equal(search.statusCode, 200, search.body);
  const hits = (search.json() as { items: Array<{ id: number; title: string; slug: string; publishedAt: string | null; snippet: string }> }).items;
  assert.deepEqual(hits.map((h) => h.id).sort((a, b) => a - b), ids);
  for (const hit of hits) {
    const article = (await app.inject({ method: 'GET', url: `/v1/articles/${hit.id}` })).json() as { title: string; slug: string; publishedAt: string };
    assert.match(hit.publishedAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(hit.publishedAt, article.publishedAt);
    assert.equal(hit.title, article.title);
    assert.equal(hit.slug, article.slug);
    assert.match(hit.snippet, /<mark>quokkaqz<\/mark> count &lt;\d&gt; &amp; &quot;more/);
  }
});
