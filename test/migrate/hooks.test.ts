// Hooks and checks declared beside a migration, and per-run hooks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, readMigrationSet } from '../../src/migrate/index.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { migrationsDir, rows } from './helpers.ts';

const USERS = "CREATE TABLE IF NOT EXISTS u (id int PRIMARY KEY, email text);\nINSERT INTO u VALUES (1, 'a@x'), (2, 'b@x'), (3, 'a@x') ON CONFLICT DO NOTHING;\n";

function failsWith(pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(isPgpressError(e), String(e));
    assert.equal(e.code, 'PGP_MIGRATION_FAILED');
    assert.match(e.message, pattern);
    return true;
  };
}

test('companions attach to their migration and are not taken for migrations; an orphan is refused', async () => {
  const dir = migrationsDir({
    '0001_u.sql': USERS, '0001_u.pre.sql': 'SELECT 1;', '0001_u.post.sql': 'SELECT 1;', '0001_u.precheck.sql': 'SELECT 1 WHERE false;',
    '0001_u.check.sql': 'SELECT 1 WHERE false;', '0001_u.hooks.ts': 'export async function post() {}\n', '_before_all.sql': 'SELECT 1;', '_after_all.sql': 'SELECT 1;',
  });
  const set = await readMigrationSet(dir);
  assert.deepEqual(set.migrations.map((m) => m.file), ['0001_u.sql']);
  const hooks = set.migrations[0]!.hooks;
  assert.deepEqual(hooks.post.map((h) => `${h.kind}:${h.file}`), ['sql:0001_u.post.sql', 'ts:0001_u.hooks.ts']);
  assert.deepEqual([hooks.pre.length, hooks.precheck.length, hooks.check.length], [2, 2, 2]);
  assert.equal(set.beforeAll?.file, '_before_all.sql');
  writeFileSync(join(dir, '0002_gone.post.sql'), 'SELECT 1;');
  await assert.rejects(readMigrationSet(dir), /0002_gone\.post\.sql belongs to no migration/);
  const typo = migrationsDir({ '0001_u.sql': USERS, '0001_u.hook.ts': 'export async function post() {}\n' });
  await assert.rejects(readMigrationSet(typo), /0001_u\.hook\.ts must be named .* NNNN_name\.hooks\.ts/);
});

test('a failing precheck stops the migration before it runs and shows a violating row', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({
    '0001_u.sql': USERS,
    '0002_unique_email.sql': 'CREATE UNIQUE INDEX IF NOT EXISTS u_email_key ON u (email);',
    '0002_unique_email.precheck.sql': '-- no duplicate emails before the unique index\nSELECT email, count(*) AS n FROM u GROUP BY email HAVING count(*) > 1;',
  });
  await assert.rejects(migrate({ url: db.url, dir }), failsWith(/Check 0002_unique_email\.precheck\.sql \(precheck\) failed at line 2: 1 violating row\(s\), first \{"email":"a@x","n":"2"\}/));
  assert.deepEqual(await rows(db.url, "SELECT to_regclass('u_email_key') AS i"), [{ i: null }]);
  await rows(db.url, 'DELETE FROM u WHERE id = 3');
  assert.deepEqual((await migrate({ url: db.url, dir })).map((m) => m.version), [2]);
});

test('pre and post hooks share the migration transaction: a data migration that loses rows rolls back, naming the hook', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({
    '0001_u.sql': USERS,
    '0002_copy.pre.sql': 'CREATE TEMP TABLE before_count ON COMMIT DROP AS SELECT count(*) AS n FROM u;',
    '0002_copy.sql': "CREATE TABLE IF NOT EXISTS u2 (id int PRIMARY KEY, email text);\nINSERT INTO u2 SELECT * FROM u WHERE email <> 'b@x' ON CONFLICT DO NOTHING;",
    '0002_copy.post.sql': "DO $$ BEGIN\n  IF (SELECT n FROM before_count) <> (SELECT count(*) FROM u2) THEN\n    RAISE EXCEPTION 'row count changed: % before, % after', (SELECT n FROM before_count), (SELECT count(*) FROM u2);\n  END IF;\nEND $$;",
  });
  await assert.rejects(migrate({ url: db.url, dir }), failsWith(/Hook 0002_copy\.post\.sql \(post\) at line 1 failed: row count changed: 3 before, 2 after/));
  assert.deepEqual(await rows(db.url, "SELECT to_regclass('u2') AS t"), [{ t: null }], 'the migration rolled back with its hook');
  assert.equal((await rows(db.url, 'SELECT 1 FROM pgpress_migrations WHERE version = 2')).length, 0);
  writeFileSync(join(dir, '0002_copy.sql'), 'CREATE TABLE IF NOT EXISTS u2 (id int PRIMARY KEY, email text);\nINSERT INTO u2 SELECT * FROM u ON CONFLICT DO NOTHING;');
  assert.deepEqual((await migrate({ url: db.url, dir })).map((m) => m.version), [2]);
});

test('TypeScript hooks receive the transaction; a post check failure names the module', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({
    '0001_u.sql': USERS,
    '0002_flag.sql': 'ALTER TABLE u ADD COLUMN IF NOT EXISTS active boolean NOT NULL DEFAULT true;',
    '0002_flag.hooks.ts': [
      'export async function post(ctx) {',
      "  const [r] = await ctx.query('SELECT count(*)::int AS n FROM u WHERE active');",
      "  await ctx.query('CREATE TABLE IF NOT EXISTS hook_saw (n int)');",
      "  await ctx.query('INSERT INTO hook_saw VALUES ($1)', [r.n]);",
      '}',
      'export async function check(ctx) {',
      "  const [r] = await ctx.query('SELECT count(*)::int AS n FROM u WHERE NOT active');",
      "  if (r.n > 0) throw new Error(`${r.n} inactive users after ${ctx.migration.name}`);",
      '}',
    ].join('\n'),
  });
  await migrate({ url: db.url, dir });
  assert.deepEqual(await rows(db.url, 'SELECT n FROM hook_saw'), [{ n: 3 }]);

  const db2 = await testDatabase({ empty: true });
  writeFileSync(join(dir, '0002_flag.sql'), 'ALTER TABLE u ADD COLUMN IF NOT EXISTS active boolean NOT NULL DEFAULT false;');
  await assert.rejects(migrate({ url: db2.url, dir }), failsWith(/Hook 0002_flag\.hooks\.ts \(check\) failed: 3 inactive users after flag/));
  assert.deepEqual(await rows(db2.url, "SELECT to_regclass('hook_saw') AS t"), [{ t: null }], 'the post hook rolled back too');
});

test('per-run hooks run once around a run that applies something, and not when there is nothing to apply', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({
    '_before_all.sql': "CREATE TABLE IF NOT EXISTS run_log (seq serial, what text);\nINSERT INTO run_log (what) VALUES ('before');",
    '_after_all.sql': "INSERT INTO run_log (what) VALUES ('after');",
    '0001_a.sql': "CREATE TABLE IF NOT EXISTS a (id int);\nINSERT INTO run_log (what) VALUES ('0001');",
    '0002_b.sql': "CREATE TABLE IF NOT EXISTS b (id int);\nINSERT INTO run_log (what) VALUES ('0002');",
  });
  await migrate({ url: db.url, dir });
  await migrate({ url: db.url, dir });
  assert.deepEqual((await rows<{ what: string }>(db.url, 'SELECT what FROM run_log ORDER BY seq')).map((r) => r.what), ['before', '0001', '0002', 'after']);
});
