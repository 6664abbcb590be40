// Dropping any row-level security policy of 0070/0071 makes its bypass attempt (the probe of the
// same name in rlsProbes.ts, asserted refused by test/security/rls.test.ts "every bypass attempt
// as the application role is refused") succeed: that test would fail. Done in this file's own
// database, one policy at a time, restored after each.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { testDatabase } from '../harness/testDatabase.ts';
import { probes, rlsFixture } from './rlsProbes.ts';

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

test('each policy guards its own bypass: dropped, the attempt succeeds; restored, it fails again', async () => {
  const all = probes(app, f);
  const { rows } = await su.query<{ table: string; name: string; def: string }>(
    `SELECT c.relname AS table, p.polname AS name,
            format('CREATE POLICY %I ON %I AS %s FOR %s', p.polname, c.relname, CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                   CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END)
            || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
            || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '') AS def
       FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
      WHERE c.relname IN ('articles', 'comments') AND NOT p.polpermissive ORDER BY 1, 2`,
  );
  // Every restrictive policy has a probe, and every probe a policy.
  assert.deepEqual(rows.map((r) => r.name).sort(), Object.keys(all).sort());
  for (const p of rows) {
    assert.equal(await all[p.name]!(), false, `${p.name} holds before the drop`);
    await su.query(`DROP POLICY ${p.name} ON ${p.table}`);
    try {
      assert.equal(await all[p.name]!(), true, `without ${p.name} its bypass succeeds`);
    } finally {
      await su.query(p.def);
    }
    assert.equal(await all[p.name]!(), false, `${p.name} holds again once restored`);
  }
});

test('without row-level security on the tables, the probes see the drafts (the policies are what hides them)', async () => {
  await su.query('ALTER TABLE articles NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY');
  await su.query('ALTER TABLE comments NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY');
  try {
    const all = probes(app, f);
    assert.equal(await all.articles_read!(), true);
    assert.equal(await all.comments_read!(), true);
  } finally {
    await su.query('ALTER TABLE articles ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY');
    await su.query('ALTER TABLE comments ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY');
  }
});
