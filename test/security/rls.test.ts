// Row-level security on articles and comments (migrations 0070/0071), enforced by the database
// for the application role whatever the route code does: bypass attempts without context, with
// another author's context, through RETURNING, INSERT … ON CONFLICT, a view, and state left on a
// pooled connection. test/security/rlsPolicyDrop.test.ts proves each probe notices a lost policy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { sql } from '../../src/db/sql.ts';
import { createStore } from '../../src/store.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { asCtx, probes, rlsFixture } from './rlsProbes.ts';

const db = await testDatabase();
const f = await rlsFixture(db.url);
const app = new pg.Client({ connectionString: db.appUrl });
const su = new pg.Client({ connectionString: db.url });
for (const c of [app, su]) c.on('error', () => undefined); // the harness drops the database WITH (FORCE)
await app.connect();
await su.connect();
after(async () => {
  await app.end();
  await su.end();
});

const idsOf = (r: { rows: Record<string, unknown>[] } | { error: string }): number[] => {
  assert.ok('rows' in r, `the statement failed: ${'error' in r ? r.error : ''}`);
  return r.rows.map((x) => Number(x.id)).sort((a, b) => a - b);
};

test('articles and comments have row-level security enabled and forced, and the app role cannot bypass it', async () => {
  const { rows } = await su.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname IN ('articles', 'comments') AND relkind = 'r' ORDER BY relname",
  );
  assert.deepEqual(rows, [
    { relname: 'articles', relrowsecurity: true, relforcerowsecurity: true },
    { relname: 'comments', relrowsecurity: true, relforcerowsecurity: true },
  ]);
  const role = await app.query<{ rolbypassrls: boolean; owns: boolean }>(
    "SELECT rolbypassrls, pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE relname = 'articles'), 'USAGE') AS owns FROM pg_roles WHERE rolname = current_user",
  );
  assert.deepEqual(role.rows[0], { rolbypassrls: false, owns: false });
  // row_security = off does not turn the policies off: it makes a filtered query an error.
  await app.query('SET row_security = off');
  await assert.rejects(app.query('SELECT id FROM articles'), /row-level security/);
  await app.query('RESET row_security');
});

test('the owner (maintenance, matview refreshes, definer triggers) sees every row without context; the read-only role only published ones', async () => {
  for (const [url, expected] of [[db.ownerUrl, [f.draft.id, f.published.id, f.archived.id]], [db.readonlyUrl, [f.published.id]]] as const) {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => undefined);
    await c.connect();
    try {
      assert.deepEqual(idsOf(await asCtx(c, undefined, 'SELECT id FROM articles WHERE author_id = $1', [f.alice])), [...expected].sort((a, b) => a - b));
    } finally {
      await c.end();
    }
  }
});

test('every bypass attempt as the application role is refused', async () => {
  const got: Record<string, boolean> = {};
  for (const [name, probe] of Object.entries(probes(app, f))) got[name] = await probe();
  assert.deepEqual(got, Object.fromEntries(Object.keys(got).map((k) => [k, false])));
});

test('a query without context sees only published articles and the comments under them', async () => {
  const articles = idsOf(await asCtx(app, undefined, 'SELECT id FROM articles WHERE author_id = $1', [f.alice]));
  assert.deepEqual(articles, [f.published.id]);
  const comments = idsOf(await asCtx(app, undefined, 'SELECT id FROM comments'));
  assert.deepEqual(comments, [f.bobComment, f.aliceComment].sort((a, b) => a - b));
  // A context that names nobody (empty settings) is anonymous too.
  assert.deepEqual(idsOf(await asCtx(app, { actorId: undefined, role: '' }, 'SELECT id FROM articles WHERE author_id = $1', [f.alice])), [f.published.id]);
  // By slug, by join, by aggregate: nothing of the draft.
  assert.deepEqual(idsOf(await asCtx(app, undefined, 'SELECT id FROM articles WHERE slug = $1', [f.draft.slug])), []);
  const counted = await asCtx(app, undefined, 'SELECT count(*)::int AS id FROM comments c JOIN articles a ON a.id = c.article_id WHERE a.id = $1', [f.draft.id]);
  assert.deepEqual(idsOf(counted), [0]);
});

test('the author sees her drafts, another author does not, editors and admins see every row', async () => {
  const all = [f.draft.id, f.published.id, f.archived.id].sort((a, b) => a - b);
  const q = 'SELECT id FROM articles WHERE author_id = $1';
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.alice, role: 'author' }, q, [f.alice])), all);
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.bob, role: 'author' }, q, [f.alice])), [f.published.id]);
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.bob, role: 'editor' }, q, [f.alice])), all);
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.bob, role: 'admin' }, q, [f.alice])), all);
  // The draft's comment: to its article's author and editors, not to bob.
  const c = 'SELECT id FROM comments WHERE id = $1';
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.alice, role: 'author' }, c, [f.draftComment])), [f.draftComment]);
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.bob, role: 'author' }, c, [f.draftComment])), []);
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.bob, role: 'editor' }, c, [f.draftComment])), [f.draftComment]);
});

test('UPDATE … RETURNING on another author\'s draft returns nothing and changes nothing', async () => {
  const bob = { actorId: f.bob, role: 'author' };
  for (const id of [f.draft.id, f.archived.id, f.published.id]) {
    assert.deepEqual(idsOf(await asCtx(app, bob, "UPDATE articles SET title = 'pwned', body = 'x' WHERE id = $1 RETURNING id, title, body", [id])), []);
    assert.deepEqual(idsOf(await asCtx(app, bob, 'DELETE FROM articles WHERE id = $1 RETURNING id', [id])), []);
  }
  // Bob's own article cannot be handed to alice (the WITH CHECK side): 42501.
  const own = await su.query<{ id: string }>("INSERT INTO articles (author_id, title, slug) VALUES ($1, 'bob own', $2) RETURNING id", [f.bob, `bob-own-${f.bob}`]);
  assert.deepEqual(await asCtx(app, bob, 'UPDATE articles SET author_id = $1 WHERE id = $2 RETURNING id', [f.alice, own.rows[0]!.id]), { error: '42501' });
  // An editor may (the rule is the database's, not only the routes').
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.bob, role: 'editor' }, "UPDATE articles SET title = 'edited' WHERE id = $1 RETURNING id", [f.draft.id])), [f.draft.id]);
  const titles = await su.query<{ title: string }>('SELECT title FROM articles WHERE author_id = $1 ORDER BY id', [f.alice]);
  assert.deepEqual(titles.rows.map((r) => r.title), ['Alice draft', 'Alice published', 'Alice archived']);
});

test('INSERT … ON CONFLICT DO UPDATE on someone else\'s row fails with 42501 and leaves it as it was', async () => {
  const bob = { actorId: f.bob, role: 'author' };
  for (const slug of [f.draft.slug, f.published.slug]) {
    const upsert = "INSERT INTO articles (author_id, title, slug) VALUES ($1, 'hijack', $2) ON CONFLICT (slug) DO UPDATE SET title = excluded.title, body = 'hijacked' RETURNING id, body";
    assert.deepEqual(await asCtx(app, bob, upsert, [f.bob, slug]), { error: '42501' });
    // Keeping the author: the UPDATE's USING side still refuses a row bob does not own.
    const keep = "INSERT INTO articles (author_id, title, slug) VALUES ($1, 'hijack', $2) ON CONFLICT (slug) DO UPDATE SET body = 'hijacked' RETURNING id";
    assert.deepEqual(await asCtx(app, bob, keep, [f.alice, slug]), { error: '42501' });
  }
  // Comments: a comment under alice's draft (bob cannot see it) and one in alice's name.
  assert.deepEqual(await asCtx(app, bob, "INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, 'peek') RETURNING id", [f.draft.id, f.bob]), { error: '42501' });
  assert.deepEqual(await asCtx(app, undefined, "INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, 'anon') RETURNING id", [f.published.id, f.bob]), { error: '42501' });
  const bodies = await su.query<{ body: string }>('SELECT body FROM articles WHERE id = ANY($1) ORDER BY id', [[f.draft.id, f.published.id]]);
  assert.deepEqual(bodies.rows.map((r) => r.body), ['', '']);
});

test('no view over articles or comments runs as its owner but articles_published, which shows published rows only', async () => {
  // articles_published (0073) runs as its owner on purpose (the public reads keep their indexes):
  // with no context, as another author and as the read-only role it shows every published article and nothing else.
  const published = idsOf(await asCtx(app, undefined, 'SELECT id FROM articles_published WHERE author_id = $1', [f.alice]));
  assert.deepEqual(published, [f.published.id]);
  assert.deepEqual(idsOf(await asCtx(app, { actorId: f.bob, role: 'admin' }, 'SELECT id FROM articles_published WHERE author_id = $1', [f.alice])), [f.published.id]);
  const definition = await su.query<{ def: string }>("SELECT pg_get_viewdef('articles_published'::regclass) AS def");
  assert.match(definition.rows[0]!.def, /WHERE \(articles\.status = 'published'::text\);\s*$/);
  // Views (relkind v) whose rewrite rule reads articles or comments, and whether they check as the caller.
  const leaking = async (): Promise<string[]> =>
    (
      await su.query<{ view: string }>(
        `SELECT DISTINCT v.relname AS view
           FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class
           JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
          WHERE v.relkind = 'v' AND d.refobjid IN ('articles'::regclass, 'comments'::regclass) AND v.relname <> 'articles_published'
            AND NOT coalesce('security_invoker=true' = ANY (v.reloptions), false)
          ORDER BY 1`,
      )
    ).rows.map((r) => r.view);
  assert.deepEqual(await leaking(), []);
  // The check sees a view that would leak, and security_invoker closes it.
  await su.query('CREATE VIEW rls_probe_view AS SELECT id, status FROM articles');
  await su.query('GRANT SELECT ON rls_probe_view TO pgpress_app');
  try {
    assert.deepEqual(await leaking(), ['rls_probe_view']);
    assert.ok(idsOf(await asCtx(app, undefined, 'SELECT id FROM rls_probe_view')).includes(f.draft.id), 'a definer view shows the draft');
    await su.query('ALTER VIEW rls_probe_view SET (security_invoker = true)');
    assert.deepEqual(await leaking(), []);
    assert.ok(!idsOf(await asCtx(app, undefined, 'SELECT id FROM rls_probe_view')).includes(f.draft.id));
  } finally {
    await su.query('DROP VIEW rls_probe_view');
  }
});

test('a context set for one request never reaches the next one on the same pooled connection', async () => {
  const cluster = new Cluster({ url: db.appUrl, max: 1 });
  try {
    const ctxQuery = sql('rls_probe_ctx', "SELECT pg_backend_pid() AS pid, current_setting('pgpress.actor_id', true) AS actor, current_setting('pgpress.role', true) AS role, (SELECT count(*)::int FROM articles WHERE id = $1) AS seen");
    const inside = await cluster.tx((q) => q.query<{ pid: number; actor: string; role: string; seen: number }>(ctxQuery, [f.draft.id]), { actorId: String(f.alice), role: 'author' });
    assert.deepEqual({ ...inside.value.rows[0], pid: 0 }, { pid: 0, actor: String(f.alice), role: 'author', seen: 1 });
    // The next call, on the same backend: no actor, no role, no draft.
    const next = await cluster.query<{ pid: number; actor: string | null; role: string | null; seen: number }>(ctxQuery, [f.draft.id]);
    assert.equal(next.rows[0]!.pid, inside.value.rows[0]!.pid, 'the same pooled connection');
    assert.deepEqual({ actor: next.rows[0]!.actor ?? '', role: next.rows[0]!.role ?? '', seen: next.rows[0]!.seen }, { actor: '', role: '', seen: 0 });
    // A transaction that failed after setting its context leaves nothing behind either.
    await assert.rejects(cluster.tx(async (q) => q.query(sql('rls_probe_fail', 'SELECT 1 / 0')), { actorId: String(f.alice), role: 'editor' }));
    const after = await cluster.query<{ actor: string | null; role: string | null; seen: number }>(ctxQuery, [f.draft.id]);
    assert.deepEqual({ actor: after.rows[0]!.actor ?? '', role: after.rows[0]!.role ?? '', seen: after.rows[0]!.seen }, { actor: '', role: '', seen: 0 });
  } finally {
    await cluster.close();
  }
});

test('through the store: a draft reaches its author and editors, not an anonymous caller or another author', async () => {
  const store = await createStore({ url: db.appUrl, pool: { max: 2 } });
  try {
    await assert.rejects(store.articles.get(f.draft.id), { code: 'PGP_NOT_FOUND' });
    await assert.rejects(store.articles.get(f.draft.id, { actorId: f.bob, role: 'author' }), { code: 'PGP_NOT_FOUND' });
    assert.equal((await store.articles.get(f.draft.id, { actorId: f.alice, role: 'author' })).id, f.draft.id);
    assert.equal((await store.articles.getBySlug(f.archived.slug, { actorId: f.bob, role: 'editor' })).id, f.archived.id);
    assert.deepEqual((await store.comments.list(f.draft.id)).map((c) => c.id), []);
    assert.deepEqual((await store.comments.list(f.draft.id, {}, { actorId: f.alice, role: 'author' })).map((c) => c.id), [f.draftComment]);
    // A write the route would have refused, sent anyway: the database does not find the row.
    await assert.rejects(store.articles.update(f.published.id, 1, { title: 'by bob' }, { actorId: f.bob, role: 'author' }), { code: 'PGP_FORBIDDEN' });
    await assert.rejects(store.articles.archive(f.published.id, 1), { code: 'PGP_FORBIDDEN' });
    await assert.rejects(store.articles.publish(f.draft.id, 1, { actorId: f.bob, role: 'author' }), { code: 'PGP_NOT_FOUND' });
    assert.equal((await store.articles.get(f.published.id)).title, 'Alice published');
  } finally {
    await store.close();
  }
});
