// Idempotency-Key on the write routes: a retry with the same key and request gets the stored answer
// and the write happens once — after a lost answer too (a COMMIT whose reply never arrives, answered
// 503 PGP_OUTCOME_UNKNOWN); a different request under the key is 422, a malformed key 400;
// concurrent duplicates write once; expired keys are purged in batches by the scheduler's job.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { InjectOptions } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import { idempotencyKeysJob } from '../../src/ops/jobs/idempotencyKeys.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore } from '../../src/store.ts';
import { testApp } from '../harness/testApp.ts';
import { turnProxy } from '../db/roundTripsProxy.ts';

const t = await testApp();
const admin = new pg.Client({ connectionString: t.url });
admin.on('error', () => undefined);
await admin.connect();
after(() => admin.end());
const rows = async <R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> => (await admin.query<R>(text, params)).rows;

const author = await t.store.users.create({ email: 'idem@example.com', username: 'idem', displayName: 'Idem' });
const other = await t.store.users.create({ email: 'idem2@example.com', username: 'idem2', displayName: 'Idem 2' });
const article = await t.store.articles.create({ authorId: author.id, title: 'Idempotent', status: 'published' });

type Inject = InjectOptions;
const post = (url: string, body: unknown, headers: Record<string, string>, method: 'POST' | 'PATCH' | 'DELETE' = 'POST'): Inject => ({ method, url, payload: body as object, headers });

test('a retry with the same key and request gets the stored answer (status, body byte for byte, replayed header, LSN token); the write happens once', async () => {
  const key = randomUUID();
  const req = post('/v1/articles', { title: 'Once only', status: 'published' }, { authorization: t.bearer(author.id), 'idempotency-key': key });
  const first = await t.app.inject(req);
  assert.equal(first.statusCode, 201, first.body);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  const again = await t.app.inject(req);
  assert.equal(again.statusCode, 201, again.body);
  assert.equal(again.body, first.body, 'the stored body, as sent the first time');
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.match(String(again.headers['x-pgpress-lsn']), /^[0-9A-F]+\/[0-9A-F]+$/, 'a replay returns a read-your-writes token');
  assert.equal((await rows('SELECT count(*)::int AS n FROM articles WHERE title = $1', ['Once only']))[0]!.n, 1);

  // The same key from another user is another key (scope), and a PATCH, a comment, an event each replay too.
  const theirs = await t.app.inject({ ...req, headers: { authorization: t.bearer(other.id), 'idempotency-key': key }, payload: { title: 'Once only', status: 'published' } });
  assert.equal(theirs.statusCode, 201, theirs.body);
  const a = JSON.parse(first.body) as { id: number; version: number };
  const patch = post(`/v1/articles/${a.id}`, { version: a.version, title: 'Once only, renamed' }, { authorization: t.bearer(author.id), 'idempotency-key': randomUUID() }, 'PATCH');
  const p1 = await t.app.inject(patch);
  const p2 = await t.app.inject(patch);
  assert.equal(p1.statusCode, 200, p1.body);
  assert.equal(p2.statusCode, 200, `a replayed PATCH is not a stale version: ${p2.body}`);
  assert.equal(p2.body, p1.body);
  const event = post('/v1/events', { articleId: article.id, kind: 'read_time', readMs: 4242 }, { 'idempotency-key': randomUUID() });
  for (let i = 0; i < 3; i++) assert.equal((await t.app.inject(event)).statusCode, 202);
  assert.equal((await rows("SELECT count(*)::int AS n FROM article_events WHERE read_ms = 4242 AND kind = 'read_time'"))[0]!.n, 1);

  // A sign-up replays the user (read again), and the table holds no email: only the user's id.
  const signup = post('/v1/users', { email: 'replay@example.com', username: 'replay', displayName: 'Replay' }, { 'idempotency-key': 'signup-1' });
  const s1 = await t.app.inject(signup);
  const s2 = await t.app.inject(signup);
  assert.equal(s1.statusCode, 201, s1.body);
  assert.equal(s2.statusCode, 201, s2.body);
  assert.equal(s2.headers['idempotent-replayed'], 'true');
  assert.deepEqual(JSON.parse(s2.body), JSON.parse(s1.body));
  const stored = await rows<{ body: string }>("SELECT body::text AS body FROM pgpress_idempotency_keys WHERE key = 'signup-1'");
  assert.deepEqual(stored.map((r) => JSON.parse(r.body) as unknown), [{ id: (JSON.parse(s1.body) as { id: number }).id }]);
});

test('the same key with a different body is 422 PGP_IDEMPOTENCY_MISMATCH; a malformed key is 400; no key: unchanged', async () => {
  const key = randomUUID();
  const url = `/v1/articles/${article.id}/comments`;
  const first = await t.app.inject(post(url, { body: 'first' }, { authorization: t.bearer(author.id), 'idempotency-key': key }));
  assert.equal(first.statusCode, 201, first.body);
  const changed = await t.app.inject(post(url, { body: 'second' }, { authorization: t.bearer(author.id), 'idempotency-key': key }));
  assert.equal(changed.statusCode, 422, changed.body);
  assert.equal((JSON.parse(changed.body) as { code: string }).code, 'PGP_IDEMPOTENCY_MISMATCH');
  for (const bad of ['x'.repeat(256), 'tab\tinside', '']) {
    const r = await t.app.inject(post(url, { body: 'bad key' }, { authorization: t.bearer(author.id), 'idempotency-key': bad }));
    assert.equal(r.statusCode, 400, `${JSON.stringify(bad)}: ${r.body}`);
    assert.equal((JSON.parse(r.body) as { code: string }).code, 'PGP_VALIDATION');
  }
  assert.equal((await rows("SELECT count(*)::int AS n FROM comments WHERE body = 'bad key'"))[0]!.n, 0);
  // Without the header each request writes, as before.
  for (let i = 0; i < 2; i++) assert.equal((await t.app.inject(post(url, { body: 'no key' }, { authorization: t.bearer(author.id) }))).statusCode, 201);
  assert.equal((await rows("SELECT count(*)::int AS n FROM comments WHERE body = 'no key'"))[0]!.n, 2);
  assert.equal((await rows('SELECT count(*)::int AS n FROM pgpress_idempotency_keys'))[0]!.n, 6, 'keys stored only for keyed writes');
});

test('concurrent duplicates write once: the later ones wait for the first and get its answer', async () => {
  const key = randomUUID();
  const req = post(`/v1/articles/${article.id}/comments`, { body: 'concurrent' }, { authorization: t.bearer(author.id), 'idempotency-key': key });
  const answers = await Promise.all(Array.from({ length: 8 }, () => t.app.inject(req)));
  assert.deepEqual(answers.map((r) => r.statusCode), Array(8).fill(201), answers.map((r) => r.body).join('\n'));
  assert.equal(new Set(answers.map((r) => r.body)).size, 1, 'one answer');
  assert.equal(answers.filter((r) => r.headers['idempotent-replayed'] === undefined).length, 1, 'one original, the rest replays');
  assert.equal((await rows("SELECT count(*)::int AS n FROM comments WHERE body = 'concurrent'"))[0]!.n, 1);
});

test('expired keys are purged in batches by the idempotency_keys job; an expired key not yet purged is a new request', async () => {
  // Two hundred and fifty old keys (expired at 24 h) and one fresh.
  await admin.query("INSERT INTO pgpress_idempotency_keys (scope, key, fingerprint, status, body, created_at) SELECT 'u:0', 'old-' || g, decode(repeat('00', 32), 'hex'), 201, '{}', now() - interval '25 hours' FROM generate_series(1, 250) g");
  await admin.query("INSERT INTO pgpress_idempotency_keys (scope, key, fingerprint, status, body) VALUES ('u:0', 'fresh', decode(repeat('00', 32), 'hex'), 201, '{}')");
  const job = idempotencyKeysJob(24, 600_000, 100);
  const r = await job.run({ cluster: t.store.cluster, lockTimeoutMs: 1_000 });
  assert.deepEqual(r, { outcome: 'ok', changes: { deletedKeys: 250 } });
  assert.deepEqual((await rows<{ key: string }>("SELECT key FROM pgpress_idempotency_keys WHERE scope = 'u:0'")).map((x) => x.key), ['fresh']);

  const key = randomUUID();
  const req = post(`/v1/articles/${article.id}/comments`, { body: 'after expiry' }, { authorization: t.bearer(author.id), 'idempotency-key': key });
  assert.equal((await t.app.inject(req)).statusCode, 201);
  await admin.query("UPDATE pgpress_idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", [key]);
  const again = await t.app.inject(req);
  assert.equal(again.statusCode, 201);
  assert.equal(again.headers['idempotent-replayed'], undefined, 'an expired key is taken over, not replayed');
  assert.equal((await rows("SELECT count(*)::int AS n FROM comments WHERE body = 'after expiry'"))[0]!.n, 2);
});

/** A proxy to PostgreSQL that, when armed, forwards the next client flight holding a COMMIT and cuts that connection before the server's answer reaches the client. */
async function commitCutProxy(targetPort: number): Promise<{ url(u: string): string; armed: boolean; cuts: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const p = {
    armed: false,
    cuts: 0,
    url: (u: string): string => {
      const x = new URL(u);
      x.hostname = '127.0.0.1';
      x.port = String(port);
      return x.toString();
    },
    close: (): Promise<void> => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let cutting = false;
    client.on('data', (b) => {
      if (p.armed && b.includes('COMMIT')) {
        p.armed = false;
        cutting = true;
      }
      upstream.write(b);
    });
    upstream.on('data', (b) => {
      if (!cutting) return void client.write(b);
      // The COMMIT ran; its answer is lost with the connection.
      p.cuts++;
      client.destroy();
      upstream.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return p;
}

test('a write whose COMMIT answer is lost is 503 PGP_OUTCOME_UNKNOWN; its retry with the same key gets the stored outcome, and the row exists once', async () => {
  const proxy = await commitCutProxy(Number(new URL(t.appUrl).port || 5432));
  const store = await createStore({ url: proxy.url(t.appUrl), pool: { max: 2 } });
  const tokens = tokenService(randomBytes(32).toString('hex'));
  const app = await buildApp({ store, tokens, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  try {
    const req = post(`/v1/articles/${article.id}/comments`, { body: 'in doubt' }, { authorization: `Bearer ${tokens.sign({ userId: author.id, role: 'author' })}`, 'idempotency-key': randomUUID() });
    proxy.armed = true;
    const first = await app.inject(req);
    assert.equal(proxy.cuts, 1, 'the COMMIT was cut');
    assert.equal(first.statusCode, 503, first.body);
    assert.equal((JSON.parse(first.body) as { code: string }).code, 'PGP_OUTCOME_UNKNOWN');
    const committed = await rows<{ id: number }>("SELECT id::int AS id FROM comments WHERE body = 'in doubt'");
    assert.equal(committed.length, 1, 'the write did commit');

    const retry = await app.inject(req);
    assert.equal(retry.statusCode, 201, retry.body);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal((JSON.parse(retry.body) as { id: number }).id, committed[0]!.id, 'the stored outcome: the committed comment');
    assert.equal((await rows("SELECT count(*)::int AS n FROM comments WHERE body = 'in doubt'"))[0]!.n, 1, 'written once');
  } finally {
    await app.close();
    await store.close();
    await proxy.close();
  }
});

test('without a key a one-statement write stays one round trip to PostgreSQL; a key adds its claim and stored answer to the write\'s transaction', async () => {
  const proxy = await turnProxy(Number(new URL(t.appUrl).port || 5432));
  const store = await createStore({ url: proxy.url(t.appUrl), pool: { max: 1 } });
  const tokens = tokenService(randomBytes(32).toString('hex'));
  const app = await buildApp({ store, tokens, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  try {
    const bearer = `Bearer ${tokens.sign({ userId: author.id, role: 'author' })}`;
    let n = 0;
    const requests = {
      article: (key?: string): Inject => post('/v1/articles', { title: `turns ${++n}` }, { authorization: bearer, ...(key ? { 'idempotency-key': key } : {}) }),
      event: (key?: string): Inject => post('/v1/events', { articleId: article.id, kind: 'view' }, key ? { 'idempotency-key': key } : {}),
      // With its in-transaction check (a draft's comments are closed), a comment is a transaction anyway.
      comment: (key?: string): Inject => post(`/v1/articles/${article.id}/comments`, { body: `turns ${++n}` }, { authorization: bearer, ...(key ? { 'idempotency-key': key } : {}) }),
    };
    const turns: Record<string, number> = {};
    for (const [name, make] of Object.entries(requests)) {
      // Warm-up: the connection is open and every statement prepared.
      for (const key of [undefined, randomUUID()]) assert.ok((await app.inject(make(key))).statusCode < 300);
      for (const key of [undefined, randomUUID()]) {
        proxy.reset();
        const r = await app.inject(make(key));
        assert.ok(r.statusCode < 300, r.body);
        turns[`${name}${key ? '_key' : ''}`] = proxy.turns;
      }
    }
    assert.deepEqual(turns, {
      article: 1, // BEGIN, context, INSERT, COMMIT and the LSN in one message, as before
      // BEGIN, context, statement_timeout (the request's deadline is nearer than the lane's), claim, INSERT, stored answer, COMMIT + LSN
      article_key: 7,
      event: 1, // an anonymous event: one INSERT, as before
      event_key: 6, // as an article's, without an actor's context
      comment: turns.comment,
      comment_key: turns.comment! + 2, // the same transaction plus the claim and the stored answer
    });
  } finally {
    await app.close();
    await store.close();
  }
});
