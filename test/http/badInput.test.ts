// Property-based: generated bodies, query strings and ids thrown at every route in the OpenAPI
// document never produce a 5xx, and rejected requests leave the database unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { testApp } from '../harness/testApp.ts';

const { app, bearer, store, owner } = await testApp();
const author = await store.users.create({ email: 'fuzz@example.com', username: 'fuzz', displayName: 'Fuzz' });
// The owner's pool (it may count every table); it closes before the file's database is dropped.
const db = owner.cluster.pool;

/** Row counts of every table in public: the database's fingerprint for "unchanged". */
async function fingerprint(): Promise<string> {
  const { rows } = await db.query<{ f: string }>(
    `SELECT string_agg(format('%s=%s', c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text), ',' ORDER BY c.relname) AS f
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`,
  );
  return rows[0]!.f;
}

const nasty = fc.oneof(
  fc.string(),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '__proto__', 'constructor', "'; DROP TABLE articles; --", '%00', '😀'.repeat(100)),
  fc.string({ unit: 'binary' }),
);
const weirdNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -0, 0.5, Number.MAX_SAFE_INTEGER));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, nasty, weirdNumber, fc.boolean(), fc.constant(null), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(nasty, tie('v'), { maxKeys: 4 })),
})).v;
const body = fc.oneof(
  value.map((v) => JSON.stringify(v) ?? 'null'),
  fc.record({ title: nasty, body: fc.option(nasty), slug: fc.option(nasty), tags: fc.option(fc.array(nasty)), metadata: fc.option(value), authorId: fc.option(weirdNumber) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ email: nasty, username: nasty, displayName: nasty, bio: fc.option(nasty) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.string().map((s) => `{"title":"${s}`), // truncated
  fc.constantFrom('{"__proto__":{"admin":true},"title":"x"}', '{"constructor":{"prototype":{"x":1}}}', `${'['.repeat(5000)}${']'.repeat(5000)}`, '{"title":"x","title":"y"}', '\u0000', ''),
);
const idSegment = fc.oneof(fc.string(), fc.constantFrom('0', '-1', '1.5', '99999999999999999999', '%00', '1e3', '..', '%F0%9F'), fc.nat().map(String));
// Keys the routes know (so generated values reach the handlers) mixed with random ones.
const queryKey = fc.oneof(fc.constantFrom('q', 'limit', 'page', 'cursor', 'tag', 'author', 'after', 'window'), fc.string({ maxLength: 8 }));
const queryValue = fc.oneof(fc.string({ maxLength: 20 }), nasty, fc.nat().map(String), fc.constantFrom('7d', 'all', '-1', '1e9', '999999999'));
const query = fc.dictionary(queryKey, queryValue.map((v) => String(v)), { maxKeys: 4 }).map((d) => new URLSearchParams(d).toString());

const doc = (await app.inject('/docs/json')).json() as { paths: Record<string, Record<string, unknown>> };
const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path })));

test('the OpenAPI document has routes to fuzz', () => {
  assert.ok(routes.length >= 6, JSON.stringify(routes));
});

for (const route of routes) {
  test(`${route.method} ${route.path}: generated input never yields a 5xx`, async () => {
    // The fingerprint after a rejected request is the next request's "before": nothing but these
    // requests writes to the file's database, and most are rejected (one count of every table each, not two).
    let unchanged: string | undefined;
    await fc.assert(
      fc.asyncProperty(body, idSegment, query, fc.boolean(), fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-16'), async (payload, id, qs, authed, contentType) => {
        const path = route.path.replace('{id}', encodeURIComponent(id));
        const before = unchanged ?? (await fingerprint());
        unchanged = undefined;
        const res = await app.inject({
          method: route.method as 'GET',
          url: qs ? `${path}?${qs}` : path,
          headers: { 'content-type': contentType, ...(authed ? { authorization: bearer(author.id) } : {}) },
          ...(route.method === 'GET' ? {} : { payload }),
        });
        assert.ok(res.statusCode < 500, `${route.method} ${path} → ${res.statusCode} ${res.body} for ${JSON.stringify(payload).slice(0, 300)}`);
        if (res.statusCode >= 400) {
          const after = await fingerprint();
          assert.equal(after, before, 'a rejected request changed the database');
          assert.match(res.json().code, /^PGP_/);
          unchanged = after;
        }
      }),
      { numRuns: 120 },
    );
  });
}

test('valid-looking input with NUL bytes, lone surrogates or prototype keys is a 4xx', async () => {
  const before = await fingerprint();
  const cases = [
    { url: '/v1/users', payload: { email: 'n@example.com', username: 'nul_user', displayName: 'a\u0000b' } },
    { url: '/v1/articles', payload: { title: 'ok', body: 'x\u0000y' } },
    { url: '/v1/articles', payload: { title: 'ok', metadata: { k: 'v\u0000' } } },
    { url: '/v1/articles', payload: '{"title":"ok","metadata":{"__proto__":{"isAdmin":true}}}' },
  ];
  for (const c of cases) {
    const res = await app.inject({ method: 'POST', url: c.url, headers: { authorization: bearer(author.id), 'content-type': 'application/json' }, payload: typeof c.payload === 'string' ? c.payload : JSON.stringify(c.payload) });
    assert.equal(res.statusCode, 400, `${c.url} ${res.body}`);
  }
  assert.equal(await fingerprint(), before);
  const surrogate = await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer(author.id), 'content-type': 'application/json' }, payload: '{"title":"lone \\ud800 surrogate"}' });
  assert.ok(surrogate.statusCode < 500, surrogate.body);
});
