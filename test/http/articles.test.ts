import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { buildApp } from '../../src/http/app.ts';
import { createStore } from '../../src/store.ts';
import { testApp } from '../harness/testApp.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { app, url, bearer, tokens } = await testApp();

async function newUser(username: string): Promise<number> {
  const res = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: `${username}@example.com`, username, displayName: username } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function count(table: 'articles' | 'users'): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  } finally {
    await c.end();
  }
}

test('healthz and readyz answer 200 on a migrated database', async () => {
  assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok' });
  const ready = await app.inject('/readyz');
  assert.equal(ready.statusCode, 200, ready.body);
  assert.equal(ready.json().database.migrations.current, true);
});

test('an article is stored and read back by id', async () => {
  const authorId = await newUser('alice');
  const created = await app.inject({
    method: 'POST',
    url: '/v1/articles',
    headers: { authorization: bearer(authorId) },
    payload: { title: 'Hello, PostgreSQL!', body: 'Body text', status: 'published', tags: ['pg', 'intro'], metadata: { lang: 'en' } },
  });
  assert.equal(created.statusCode, 201, created.body);
  const a = created.json();
  assert.equal(a.title, 'Hello, PostgreSQL!');
  assert.match(a.slug, /^hello-postgresql-[a-z0-9]+$/);
  assert.equal(a.version, 1);
  assert.equal(a.status, 'published');
  assert.ok(a.publishedAt);
  assert.match(created.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/);

  const read = await app.inject(`/v1/articles/${a.id}`);
  assert.equal(read.statusCode, 200);
  assert.deepEqual(read.json(), a);
});

test('unknown ids are 404 with a catalogued body', async () => {
  const res = await app.inject('/v1/articles/987654321');
  assert.equal(res.statusCode, 404);
  const body = res.json();
  assert.equal(body.code, 'PGP_NOT_FOUND');
  assert.equal(body.message, 'Article 987654321 does not exist.');
  assert.equal(body.requestId, res.headers['x-request-id']);
  assert.equal((await app.inject('/v1/users/55555')).statusCode, 404);
});

test('bad input is a 400 that names the field, and nothing is written', async () => {
  const authorId = await newUser('bob');
  const before = await count('articles');
  const cases: Array<[unknown, RegExp]> = [
    [{}, /"title" is required/],
    [{ authorId, title: '' }, /title must NOT have fewer than 1 characters/],
    [{ authorId, title: 'x', bogus: 1 }, /unknown field "bogus"/],
    [{ authorId: '1', title: 'x' }, /authorId must be integer/],
    [{ authorId, title: 'x', status: 'archived' }, /status must be equal to one of the allowed values/],
    [{ authorId, title: 'x', slug: 'Not A Slug' }, /slug must match pattern/],
    [{ authorId, title: 'x', tags: ['a', 'a'] }, /tags must NOT have duplicate items/],
  ];
  for (const [payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(authorId, 'editor') }, payload: payload as object });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(res.json().code, 'PGP_VALIDATION');
    assert.match(res.json().message, message);
  }
  const malformed = await app.inject({ method: 'POST', url: '/v1/articles', headers: { 'content-type': 'application/json', authorization: bearer(authorId) }, payload: '{"title":"x",' });
  assert.equal(malformed.statusCode, 400);
  assert.equal((await app.inject('/v1/articles/abc')).statusCode, 400);
  assert.equal((await app.inject('/v1/articles/0')).statusCode, 400);
  assert.equal((await app.inject('/v1/articles/99999999999999999999')).statusCode, 400);
  const huge = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(authorId) }, payload: { title: 'x', body: 'y'.repeat(1_100_000) } });
  assert.equal(huge.statusCode, 413);
  assert.equal(huge.json().code, 'PGP_PAYLOAD_TOO_LARGE');
  assert.equal(await count('articles'), before);
});

test('an unknown author is 422, a taken slug 409, a taken username 409', async () => {
  const authorId = await newUser('carol');
  const noAuthor = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(1, 'admin') }, payload: { authorId: 424242, title: 'x' } });
  assert.equal(noAuthor.statusCode, 422);
  assert.equal(noAuthor.json().message, 'Author 424242 does not exist.');
  assert.doesNotMatch(noAuthor.body, /violates|constraint|fkey/, 'database internals stay inside');

  const first = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(authorId) }, payload: { title: 'One', slug: 'same-slug' } });
  assert.equal(first.statusCode, 201);
  const second = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(authorId) }, payload: { title: 'Two', slug: 'same-slug' } });
  assert.equal(second.statusCode, 409);
  assert.equal(second.json().code, 'PGP_CONFLICT');

  const dup = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: 'other@example.com', username: 'carol', displayName: 'C' } });
  assert.equal(dup.statusCode, 409);
  assert.equal(dup.json().message, 'A user with this username already exists.');
});

test('readyz is 503 when migrations are pending', async () => {
  const empty = await testDatabase({ empty: true });
  const bare = await createStore({ url: empty.url, pool: { max: 1 } });
  const bareApp = await buildApp({ store: bare, tokens });
  try {
    const res = await bareApp.inject('/readyz');
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().database.migrations.pending, readdirSync('migrations').filter((f) => f.endsWith('.sql')).length);
    assert.doesNotMatch(res.body, /postgres(ql)?:\/\/|127\.0\.0\.1|pgpress_t_/, 'a public probe names no host, URL or database');
  } finally {
    await bareApp.close();
    await bare.close();
  }
});
