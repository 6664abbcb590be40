import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync, cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, migrationStatus } from '../../src/migrate/index.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { migrationsDir, rows } from './helpers.ts';


test('applies the project migrations once, records them, and a second run applies nothing', async () => {
  const db = await testDatabase({ empty: true });
  const applied = await migrate({ url: db.url, dir: 'migrations' });
  assert.deepEqual(applied.slice(0, 2).map((m) => m.name), ['users', 'articles']);
  assert.equal(applied.length, readdirSync('migrations').filter((f) => f.endsWith('.sql')).length);
  const tracked = await rows<{ version: number; checksum: string; duration_ms: number; applied_by: string }>(db.url, 'SELECT * FROM pgpress_migrations ORDER BY version');
  assert.deepEqual(tracked.map((r) => r.version), applied.map((m) => m.version));
  for (const r of tracked) {
    assert.match(r.checksum, /^[0-9a-f]{64}$/);
    assert.ok(r.duration_ms >= 0);
    assert.equal(r.applied_by, 'postgres');
  }
  assert.deepEqual(await migrate({ url: db.url, dir: 'migrations' }), []);
  const status = await migrationStatus({ url: db.url, dir: 'migrations' });
  assert.ok(status.length === applied.length && status.every((s) => s.state === 'applied'));
});

test('a failing migration rolls back whole and names the file, line and statement', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({
    '0001_ok.sql': 'CREATE TABLE a (id int PRIMARY KEY);',
    '0002_bad.sql': 'CREATE TABLE b (id int);\n\nINSERT INTO b VALUES (1);\nINSERT INTO nope VALUES (1);\n',
  });
  await assert.rejects(migrate({ url: db.url, dir }), (e: unknown) => {
    assert.ok(isPgpressError(e));
    assert.equal(e.code, 'PGP_MIGRATION_FAILED');
    assert.match(e.message, /0002_bad\.sql failed at line 4 \(INSERT INTO nope VALUES \(1\)\): relation "nope" does not exist/);
    return true;
  });
  const tables = await rows<{ t: string | null }>(db.url, "SELECT to_regclass('a')::text AS a, to_regclass('b')::text AS t");
  assert.equal(tables[0]!.t, null, 'table b from the failed migration must not exist');
  const tracked = await rows<{ version: number }>(db.url, 'SELECT version FROM pgpress_migrations');
  assert.deepEqual(tracked.map((r) => r.version), [1]);
});

test('an applied migration whose file changed, vanished or arrives out of order stops the run', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': 'CREATE TABLE a (id int);', '0003_c.sql': 'CREATE TABLE c (id int);' });
  await migrate({ url: db.url, dir });

  writeFileSync(join(dir, '0001_a.sql'), 'CREATE TABLE a (id bigint);');
  await assert.rejects(migrate({ url: db.url, dir }), /PGP_MIGRATION_DRIFT|0001_a\.sql changed after it was applied/);
  assert.equal((await migrationStatus({ url: db.url, dir }))[0]!.state, 'changed');
  writeFileSync(join(dir, '0001_a.sql'), 'CREATE TABLE a (id int);');

  writeFileSync(join(dir, '0002_b.sql'), 'CREATE TABLE b (id int);');
  await assert.rejects(migrate({ url: db.url, dir }), /0002_b\.sql is older than the latest applied migration \(3\)/);
  rmSync(join(dir, '0002_b.sql'));

  rmSync(join(dir, '0003_c.sql'));
  await assert.rejects(migrate({ url: db.url, dir }), /Migration 3 \(c\) was applied but its file is no longer/);
  assert.equal((await migrationStatus({ url: db.url, dir })).at(-1)!.state, 'missing');
});

test('concurrent runners apply each migration exactly once', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({});
  cpSync('migrations', dir, { recursive: true });
  // A slow migration holds the lock while the others wait on it.
  writeFileSync(join(dir, '0099_slow.sql'), 'SELECT pg_sleep(0.5);\nCREATE TABLE slow_marker (id int);');
  const expected = readdirSync(dir).filter((f) => f.endsWith('.sql')).length;
  const results = await Promise.all([1, 2, 3, 4].map(() => migrate({ url: db.url, dir })));
  const total = results.reduce((n, r) => n + r.length, 0);
  assert.equal(total, expected, 'every migration applied by exactly one runner');
  const tracked = await rows<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM pgpress_migrations');
  assert.equal(tracked[0]!.n, expected);
});

test('with wait off, a runner fails fast while another holds the lock', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_slow.sql': 'SELECT pg_sleep(1);' });
  const first = migrate({ url: db.url, dir });
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  await assert.rejects(migrate({ url: db.url, dir, wait: false }), (e: unknown) => isPgpressError(e) && e.code === 'PGP_MIGRATION_LOCKED');
  assert.ok(Date.now() - started < 900, 'fail-fast must not wait for the lock');
  assert.equal((await first).length, 1);
});

test('bad file names are refused with the expected form', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '1-init.sql': 'SELECT 1;' });
  await assert.rejects(migrate({ url: db.url, dir }), /must be named NNNN_lower_snake_name\.sql/);
});
