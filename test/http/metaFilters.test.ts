// GET /v1/feed and GET /v1/search filtered by ?meta= (a JSON object the article's metadata must
// contain) and ?lang= (metadata.lang): only matching published articles; bad input is a 400 with
// the catalogued body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../harness/testApp.ts';

const { app, store } = await testApp();
const alice = await store.users.create({ email: 'alice@example.com', username: 'alice', displayName: 'Alice' });

const made: Record<string, number> = {};
for (const [slug, metadata, status] of <[string, Record<string, unknown>, 'draft' | 'published'][]>[
  ['wal-part-1', { series: 'wal', lang: 'en' }, 'published'],
  ['wal-part-2', { series: 'wal', lang: 'de' }, 'published'],
  ['wal-draft', { series: 'wal', lang: 'en' }, 'draft'],
  ['vacuum-notes', { series: 'vacuum', lang: 'de', level: { depth: 'deep' } }, 'published'],
  ['plain', {}, 'published'],
]) {
  made[slug] = (await store.articles.create({ authorId: alice.id, title: `Checkpoint story ${slug}`, body: 'A checkpoint flushes dirty buffers.', slug, status, metadata })).id;
}

type Page = { items: { id: number }[]; code?: string; message?: string };
async function get(url: string): Promise<{ status: number; json: Page }> {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, json: res.json() as Page };
}
const q = (v: unknown): string => encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v));
const ids = (p: Page): number[] => p.items.map((i) => i.id).sort((a, b) => a - b);

test('GET /v1/feed?meta= returns the published articles whose metadata contains the object', async () => {
  const r = await get(`/v1/feed?meta=${q({ series: 'wal' })}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(ids(r.json), [made['wal-part-1']!, made['wal-part-2']!], 'not the draft, not another series');
  const nested = await get(`/v1/feed?meta=${q({ level: { depth: 'deep' } })}`);
  assert.deepEqual(ids(nested.json), [made['vacuum-notes']!], 'containment reaches nested objects');
});

test('GET /v1/feed?lang= filters by metadata.lang, alone or joined with meta', async () => {
  const de = await get('/v1/feed?lang=de');
  assert.equal(de.status, 200);
  assert.deepEqual(ids(de.json), [made['wal-part-2']!, made['vacuum-notes']!]);
  const both = await get(`/v1/feed?lang=de&meta=${q({ series: 'wal' })}`);
  assert.deepEqual(ids(both.json), [made['wal-part-2']!]);
  const paged = await get('/v1/feed?lang=de&limit=1');
  assert.equal(paged.json.items.length, 1);
  const cursor = (paged.json as unknown as { nextCursor: string }).nextCursor;
  const next = await get(`/v1/feed?lang=de&limit=1&cursor=${cursor}`);
  assert.equal(next.json.items.length, 1);
  assert.notEqual(next.json.items[0]!.id, paged.json.items[0]!.id);
});

test('GET /v1/search takes the same filters', async () => {
  const all = await get('/v1/search?q=checkpoint');
  assert.equal(all.json.items.length, 4);
  const wal = await get(`/v1/search?q=checkpoint&meta=${q({ series: 'wal' })}`);
  assert.equal(wal.status, 200, JSON.stringify(wal.json));
  assert.deepEqual(ids(wal.json), [made['wal-part-1']!, made['wal-part-2']!]);
  const de = await get('/v1/search?q=checkpoint&lang=de');
  assert.deepEqual(ids(de.json), [made['wal-part-2']!, made['vacuum-notes']!]);
});

test('bad filters are 400 PGP_VALIDATION naming the parameter', async () => {
  for (const [url, message] of <[string, RegExp][]>[
    [`/v1/feed?meta=${q('{"series": ')}`, /meta.*not valid JSON/],
    [`/v1/feed?meta=${q('not json')}`, /meta/],
    [`/v1/feed?meta=${q([1, 2])}`, /meta/],
    [`/v1/feed?meta=${q('"wal"')}`, /meta/],
    [`/v1/feed?meta=${q({})}`, /meta.*at least one key/],
    [`/v1/feed?meta=${q({ k: 'x'.repeat(3000) })}`, /meta/],
    ['/v1/feed?lang=EN%21', /lang/],
    [`/v1/feed?tag=x&meta=${q({ series: 'wal' })}`, /one of/],
    [`/v1/search?q=checkpoint&meta=${q('{oops}')}`, /meta.*not valid JSON/],
    ['/v1/search?q=checkpoint&lang=', /lang/],
  ]) {
    const r = await get(url);
    assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.code, 'PGP_VALIDATION', url);
    assert.match(r.json.message ?? '', message, url);
  }
});
