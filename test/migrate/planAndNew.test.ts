// `migrate up --dry-run` (plan without touching anything) and `migrate new` (idempotent template).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { formatPlan, lintSql, migrate, newMigration, planMigrations, readMigrations } from '../../src/migrate/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { migrationsDir, rows } from './helpers.ts';

test('a dry run lists the plan and its statements and changes nothing, not even the tracking table', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({
    '0001_a.sql': '-- a\nCREATE TABLE IF NOT EXISTS a (id int);\n',
    '0001_a.check.sql': 'SELECT 1 WHERE false;',
    '0002_b_idx.sql': '-- pgpress:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a_id_idx ON a (id);\n',
    '0003_c.sql': 'CREATE TABLE IF NOT EXISTS c (id int);\n',
    '_before_all.sql': 'SELECT 1;',
  });
  const plan = await planMigrations({ url: db.url, dir, to: 2 });
  assert.deepEqual(plan.migrations.map((m) => [m.file, m.transactional]), [['0001_a.sql', true], ['0002_b_idx.sql', false]]);
  assert.deepEqual(plan.migrations[0]!.hooks, { check: ['0001_a.check.sql'] });
  assert.deepEqual(plan.migrations[0]!.statements.map((s) => s.line), [2]);
  const text = formatPlan(plan);
  assert.match(text, /Would apply 2 migration\(s\) \(dry run: nothing was changed\):\n {2}run hook _before_all\.sql\n {2}0001_a\.sql\n {4}check: 0001_a\.check\.sql\n {4}-- line 2\n {4}-- a\n {4}CREATE TABLE IF NOT EXISTS a \(id int\);\n {2}0002_b_idx\.sql {2}\[no-transaction/);
  assert.deepEqual(await rows(db.url, "SELECT to_regclass('pgpress_migrations') AS t, to_regclass('a') AS a"), [{ t: null, a: null }]);

  await migrate({ url: db.url, dir, to: 1 });
  const rest = await planMigrations({ url: db.url, dir });
  assert.deepEqual(rest.migrations.map((m) => m.version), [2, 3]);
  await migrate({ url: db.url, dir });
  assert.equal(formatPlan(await planMigrations({ url: db.url, dir })), 'Nothing to apply: the database is current.');
});

test('`migrate new` writes the next-numbered file from a template that lints clean and applies twice', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({});
  cpSync('migrations', dir, { recursive: true });
  const before = await readMigrations(dir);
  const path = await newMigration({ dir, name: 'Add Comments' });
  const expected = `${String(before.at(-1)!.version + 1).padStart(4, '0')}_add_comments.sql`;
  assert.equal(basename(path), expected);
  const sql = readFileSync(path, 'utf8');
  assert.match(sql, /IF NOT EXISTS/);
  assert.deepEqual(await lintSql(expected, sql), []);
  assert.equal((await migrate({ url: db.url, dir })).at(-1)!.name, 'add_comments');
  await rows(db.url, 'DELETE FROM pgpress_migrations WHERE version = $1', [before.at(-1)!.version + 1]);
  assert.equal((await migrate({ url: db.url, dir })).length, 1, 'applies again over itself');
  await assert.rejects(newMigration({ dir, name: 'bad/name' }), /must be lower_snake_case/);
});
