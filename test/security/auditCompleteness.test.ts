// Completeness: every write to an audited table has exactly one audit entry of its row, operation
// and actor — through the API and through SQL as the application role — and a write made with the
// audit trigger disabled by the owner is reported by verify and by the pgpress_audit_* metrics.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { createDbCollectorRegistry } from '../../src/observability/collectors/registry.ts';
import { verifyAuditLog } from '../../src/security/auditVerify.ts';
import { roleUrl } from '../harness/roleUrl.ts';
import { testApp } from '../harness/testApp.ts';

const K = 24;
const t = await testApp();
const admin = new pg.Client({ connectionString: t.url });
admin.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await admin.connect();
after(() => admin.end());

// A small seeded generator: a failure names its seed, and the same seed replays the same writes.
const seed = Number(process.env.AUDIT_SEED ?? Date.now() % 100_000);
let state = seed;
const random = (n: number): number => {
  state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
  return state % n;
};

type Expected = string; // table|key|operation|actor
const entryKey = (table: string, key: string, op: string, actor: string | null): Expected => `${table}|${key}|${op}|${actor ?? '-'}`;

async function entriesAfter(id: string): Promise<Expected[]> {
  const { rows } = await admin.query<{ table_name: string; row_key: string; operation: string; actor_id: string | null }>(
    "SELECT table_name, row_key, operation, actor_id::text FROM audit_log WHERE id > $1 AND table_name IN ('users', 'articles', 'comments') ORDER BY id", [id]);
  return rows.map((r) => entryKey(r.table_name, r.row_key, r.operation, r.actor_id)).sort();
}
const lastId = async (): Promise<string> => (await admin.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM audit_log')).rows[0]!.id;

async function verifyFindings(): Promise<string[]> {
  const cluster = new Cluster({ url: t.url, max: 1, statementTimeoutMs: 0 });
  try {
    return (await verifyAuditLog(cluster)).findings.map((f) => `${f.kind}: ${f.message}`);
  } finally {
    await cluster.close();
  }
}

test(`${K} random writes through the API have exactly ${K} matching audit entries (seed ${seed})`, async () => {
  const post = async (url: string, payload: object, user?: number, method: 'POST' | 'PATCH' | 'DELETE' = 'POST'): Promise<Record<string, number>> => {
    const r = await t.app.inject({ method, url, payload: method === 'DELETE' ? undefined : payload, headers: user ? { authorization: t.bearer(user) } : {} });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const users: number[] = [];
  const articles: { id: number; author: number; version: number }[] = [];
  const comments: { id: number; author: number }[] = [];
  for (let i = 0; i < 2; i++) users.push((await post('/v1/users', { email: `setup${i}@example.org`, username: `setup_${i}`, displayName: `Setup ${i}` })).id!);
  const a0 = await post('/v1/articles', { title: 'Setup', body: 'b', status: 'published' }, users[0]);
  articles.push({ id: a0.id!, author: users[0]!, version: a0.version! });
  const from = await lastId();

  const expected: Expected[] = [];
  for (let i = 0; i < K; i++) {
    const op = random(6);
    const u = users[random(users.length)]!;
    if (op === 0) {
      const made = await post('/v1/users', { email: `u${i}@example.org`, username: `user_${i}`, displayName: `User ${i}` });
      users.push(made.id!);
      expected.push(entryKey('users', String(made.id), 'INSERT', null));
    } else if (op === 1) {
      const made = await post('/v1/articles', { title: `Article ${i}`, body: `text ${i}`, status: 'published' }, u);
      articles.push({ id: made.id!, author: u, version: made.version! });
      expected.push(entryKey('articles', String(made.id), 'INSERT', String(u)));
    } else if (op === 2) {
      const a = articles[random(articles.length)]!;
      const made = await post(`/v1/articles/${a.id}`, { version: a.version, title: `Retitled ${i}` }, a.author, 'PATCH');
      a.version = made.version!;
      expected.push(entryKey('articles', String(a.id), 'UPDATE', String(a.author)));
    } else if (op === 3 || (op === 4 && comments.length === 0)) {
      const a = articles[random(articles.length)]!;
      const made = await post(`/v1/articles/${a.id}/comments`, { body: `comment ${i}` }, u);
      comments.push({ id: made.id!, author: u });
      expected.push(entryKey('comments', String(made.id), 'INSERT', String(u)));
    } else if (op === 4) {
      const [c] = comments.splice(random(comments.length), 1);
      await post(`/v1/comments/${c!.id}`, {}, c!.author, 'DELETE');
      expected.push(entryKey('comments', String(c!.id), 'UPDATE', String(c!.author)));
    } else {
      await post(`/v1/users/${u}`, { bio: `bio ${i}` }, u, 'PATCH');
      expected.push(entryKey('users', String(u), 'UPDATE', String(u)));
    }
  }
  assert.equal(expected.length, K);
  assert.deepEqual(await entriesAfter(from), expected.sort());
  // Written as the application role, which the entries record.
  const { rows } = await admin.query<{ db_role: string }>('SELECT DISTINCT db_role FROM audit_log WHERE id > $1', [from]);
  assert.deepEqual(rows.map((r) => r.db_role), ['pgpress_app']);
});

test(`${K} random writes through SQL as the application role have exactly ${K} matching audit entries (seed ${seed})`, async () => {
  const app = new pg.Client({ connectionString: t.appUrl });
  await app.connect();
  try {
    const one = async (text: string, params: unknown[]): Promise<string> => (await app.query<{ k: string }>(text, params)).rows[0]!.k;
    // Every transaction carries the request context (an admin: row-level security lets it write any row).
    const context = (actor: string): Promise<unknown> => app.query("SELECT set_config('pgpress.actor_id', $1, true), set_config('pgpress.role', 'admin', true)", [actor]);
    await app.query('BEGIN');
    await context('1');
    const author = await one("INSERT INTO users (email, username, display_name) VALUES ('sql0@example.org', 'sql_0', 'Sql') RETURNING id::text AS k", []);
    const article = await one("INSERT INTO articles (author_id, title, slug, status, published_at) VALUES ($1, 'Sql', 'sql-0', 'published', now()) RETURNING id::text AS k", [author]);
    await app.query('COMMIT');
    const from = await lastId();
    const expected: Expected[] = [];
    const comments: string[] = [];
    for (let i = 0; i < K; i++) {
      const actor = String(1 + random(5));
      await app.query('BEGIN');
      await context(actor);
      const op = random(5);
      if (op === 0) {
        const k = await one('INSERT INTO users (email, username, display_name) VALUES ($1, $2, $3) RETURNING id::text AS k', [`sql${i + 1}@example.org`, `sql_${i + 1}`, `Sql ${i}`]);
        expected.push(entryKey('users', k, 'INSERT', actor));
      } else if (op === 1) {
        await app.query('UPDATE users SET bio = $2 WHERE id = $1', [author, `bio ${i}`]);
        expected.push(entryKey('users', author, 'UPDATE', actor));
      } else if (op === 2) {
        await app.query('UPDATE articles SET title = $2 WHERE id = $1', [article, `Sql ${i}`]);
        expected.push(entryKey('articles', article, 'UPDATE', actor));
      } else if (op === 3 || comments.length === 0) {
        const k = await one("INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, 'sql') RETURNING id::text AS k", [article, author]);
        comments.push(k);
        expected.push(entryKey('comments', k, 'INSERT', actor));
      } else {
        const k = comments.pop()!;
        await app.query('DELETE FROM comments WHERE id = $1', [k]);
        expected.push(entryKey('comments', k, 'DELETE', actor));
      }
      await app.query('COMMIT');
    }
    assert.deepEqual(await entriesAfter(from), expected.sort());
    assert.deepEqual(await verifyFindings(), []);
  } finally {
    await app.end();
  }
});

test('a write made with the audit trigger disabled by the owner is reported by verify and the pgpress_audit_* metrics', async () => {
  const owner = new pg.Client({ connectionString: roleUrl(t.url, 'owner') });
  await owner.connect();
  const cluster = new Cluster({ url: t.url, max: 2, statementTimeoutMs: 0 });
  const { registry } = createDbCollectorRegistry(cluster, { cacheMs: 0, slowCacheMs: 0, statementsTopK: 5, warn: () => undefined });
  const metric = async (name: string): Promise<string[]> => (await registry.metrics()).split('\n').filter((l) => l.startsWith(`${name}{`));
  try {
    assert.deepEqual(await verifyFindings(), [], 'every audited table has its audit triggers, enabled');
    assert.ok((await metric('pgpress_audit_triggers_off')).every((l) => l.endsWith(' 0')), (await metric('pgpress_audit_triggers_off')).join('\n'));
    await owner.query('ALTER TABLE users DISABLE TRIGGER users_audit');
    const { rows: [u] } = await owner.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('quiet@example.org', 'quiet', 'Q') RETURNING id::text");
    const off = await verifyFindings();
    assert.ok(off.includes('trigger: trigger users_audit on users is disabled: writes to users are not audited'), off.join('\n'));
    assert.ok((await metric('pgpress_audit_triggers_off')).includes('pgpress_audit_triggers_off{table="users"} 1'));
    await owner.query('ALTER TABLE users ENABLE TRIGGER users_audit');
    // The event trigger recorded both switches, by whom.
    const { rows: switches } = await admin.query<{ operation: string; db_role: string }>(
      "SELECT operation, db_role FROM audit_log WHERE row_key = 'trigger users_audit on users' ORDER BY id");
    assert.deepEqual(switches.map((r) => [r.operation, r.db_role]), [['AUDIT_OFF', 'pgpress_owner'], ['AUDIT_ON', 'pgpress_owner']]);
    // Enabled again: the write made meanwhile is still reported, by its row.
    const after = await verifyFindings();
    assert.deepEqual(after, [`unaudited: users: 1 row(s) written without an audit entry (the trigger was off): id ${u!.id}`]);
    assert.ok((await metric('pgpress_audit_missing_rows')).includes('pgpress_audit_missing_rows{table="users"} 1'), (await metric('pgpress_audit_missing_rows')).join('\n'));
  } finally {
    await owner.query('ALTER TABLE users ENABLE TRIGGER users_audit').catch(() => undefined);
    await owner.end();
    await cluster.close();
  }
});
