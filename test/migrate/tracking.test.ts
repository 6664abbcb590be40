import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, migrationStatus, repairMigration } from '../../src/migrate/index.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { migrationsDir, rows } from './helpers.ts';

const A = "-- a\nCREATE TABLE IF NOT EXISTS a (id int PRIMARY KEY, label text NOT NULL DEFAULT 'x  y');\n";
const B = 'CREATE TABLE IF NOT EXISTS b (id int);\nCREATE INDEX IF NOT EXISTS b_id_idx ON b (id);\n';
const C = 'CREATE TABLE IF NOT EXISTS c (id int);\n';

function isDrift(pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(isPgpressError(e), String(e));
    assert.equal(e.code, 'PGP_MIGRATION_DRIFT');
    assert.match(e.message, pattern);
    return true;
  };
}

test('each tracking row records who, when, how long, and links to the previous row by hash', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': A, '0002_b.sql': B, '0003_c.sql': C });
  await migrate({ url: db.url, dir, to: 2 });
  await migrate({ url: db.url, dir });
  const r = await rows<{ version: number; previous_hash: string | null; row_hash: string; applied_by: string; duration_ms: number; script: string }>(
    db.url,
    'SELECT * FROM pgpress_migrations ORDER BY version',
  );
  assert.deepEqual(r.map((x) => x.version), [1, 2, 3]);
  assert.equal(r[0]!.previous_hash, null);
  assert.equal(r[1]!.previous_hash, r[0]!.row_hash);
  assert.equal(r[2]!.previous_hash, r[1]!.row_hash, 'a later run continues the chain');
  for (const x of r) {
    assert.match(x.row_hash, /^[0-9a-f]{64}$/);
    assert.equal(x.applied_by, 'postgres');
    assert.ok(x.duration_ms >= 0);
  }
  assert.equal(r[0]!.script, A);
});

test('a row edited or deleted by hand breaks the chain and stops migrate', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': A, '0002_b.sql': B, '0003_c.sql': C });
  await migrate({ url: db.url, dir });
  await rows(db.url, 'UPDATE pgpress_migrations SET applied_by = $1 WHERE version = 2', ['mallory']);
  await assert.rejects(migrate({ url: db.url, dir }), isDrift(/Tracking row 2 was edited after it was recorded/));

  const db2 = await testDatabase({ empty: true });
  await migrate({ url: db2.url, dir });
  await rows(db2.url, 'DELETE FROM pgpress_migrations WHERE version = 2');
  await assert.rejects(migrate({ url: db2.url, dir }), isDrift(/Tracking row 3 does not link to the row before it/));
});

test('reformatting a migration or editing its comments is not drift', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': A, '0002_b.sql': B });
  await migrate({ url: db.url, dir });
  writeFileSync(
    join(dir, '0001_a.sql'),
    "/* a table\n   called a */\nCREATE   TABLE IF NOT EXISTS a (\n  id    int PRIMARY KEY,  -- the key\n  label text NOT NULL DEFAULT 'x  y'\n)  ;",
  );
  writeFileSync(join(dir, '0002_b.sql'), 'CREATE TABLE IF NOT EXISTS b(id int);\n\n\n-- index for lookups\nCREATE INDEX IF NOT EXISTS b_id_idx ON b(id);');
  assert.deepEqual(await migrate({ url: db.url, dir }), []);
  assert.deepEqual((await migrationStatus({ url: db.url, dir })).map((s) => s.state), ['applied', 'applied']);
});

test('a real change is caught, naming the file and the statement that differs (even inside a string)', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': A, '0002_b.sql': B });
  await migrate({ url: db.url, dir });
  writeFileSync(join(dir, '0001_a.sql'), A.replace("'x  y'", "'x y'"));
  await assert.rejects(
    migrate({ url: db.url, dir }),
    isDrift(/Migration 0001_a\.sql changed after it was applied: statement 1 at line 2 now reads `CREATE TABLE IF NOT EXISTS a\(id int PRIMARY KEY,label text NOT NULL DEFAULT 'x y'\)`/),
  );
  writeFileSync(join(dir, '0001_a.sql'), A);
  writeFileSync(join(dir, '0002_b.sql'), `${B}CREATE INDEX IF NOT EXISTS b_id2_idx ON b (id);\n`);
  await assert.rejects(migrate({ url: db.url, dir }), isDrift(/0002_b\.sql changed after it was applied: statement 3 at line 3 .* was added/));
  assert.deepEqual((await migrationStatus({ url: db.url, dir })).map((s) => s.state), ['applied', 'changed']);
});

test('repair accepts one deliberate change, visibly, and leaves other drift in place', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': A, '0002_b.sql': B, '0003_c.sql': C });
  await migrate({ url: db.url, dir });
  writeFileSync(join(dir, '0001_a.sql'), A.replace('PRIMARY KEY', 'PRIMARY KEY CHECK (id > 0)'));
  writeFileSync(join(dir, '0002_b.sql'), B.replace('(id int)', '(id bigint)'));

  const result = await repairMigration({ url: db.url, dir, version: 1 });
  assert.equal(result.repaired, true);
  await assert.rejects(migrate({ url: db.url, dir }), (e: unknown) => {
    assert.ok(isPgpressError(e) && e.code === 'PGP_MIGRATION_DRIFT');
    assert.doesNotMatch(e.message, /0001_a/, 'the repaired file is accepted');
    assert.match(e.message, /0002_b\.sql changed/, 'the other change is still refused');
    assert.doesNotMatch(e.message, /Tracking row/, 'the chain was re-sealed after the repair');
    return true;
  });
  const [row] = await rows<{ repaired_from: string; repaired_by: string; checksum: string }>(db.url, 'SELECT * FROM pgpress_migrations WHERE version = 1');
  assert.equal(row!.repaired_by, 'postgres');
  assert.notEqual(row!.repaired_from, row!.checksum);

  writeFileSync(join(dir, '0002_b.sql'), B);
  assert.deepEqual(await migrate({ url: db.url, dir }), []);
  assert.equal((await repairMigration({ url: db.url, dir, version: 3 })).repaired, false, 'an unchanged file needs no repair');
  await assert.rejects(repairMigration({ url: db.url, dir, version: 9 }), /No migration file with version 9/);
});

test('a tracking table written by runner v1 is adopted once: checksums upgraded, chain sealed, a changed file still refused', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': A, '0002_b.sql': B });
  await rows(db.url, `CREATE TABLE public.pgpress_migrations (
    version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL CHECK (duration_ms >= 0), applied_by text NOT NULL DEFAULT current_user)`);
  const v1 = (sql: string): string => createHash('sha256').update(sql, 'utf8').digest('hex');
  await rows(db.url, 'INSERT INTO pgpress_migrations (version, name, checksum, duration_ms) VALUES (1, $1, $2, 5), (2, $3, $4, 7)', ['a', v1(A), 'b', v1(B)]);
  writeFileSync(join(dir, '0003_c.sql'), C);
  const log: string[] = [];
  assert.deepEqual((await migrate({ url: db.url, dir, log: (m) => log.push(m) })).map((m) => m.version), [3]);
  assert.match(log.join('\n'), /adopted 2 tracking row\(s\) recorded by runner v1/);
  assert.deepEqual((await migrationStatus({ url: db.url, dir })).map((s) => s.state), ['applied', 'applied', 'applied']);

  const db2 = await testDatabase({ empty: true });
  await rows(db2.url, 'CREATE TABLE public.pgpress_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL, applied_by text NOT NULL DEFAULT current_user)');
  await rows(db2.url, 'INSERT INTO pgpress_migrations (version, name, checksum, duration_ms) VALUES (1, $1, $2, 5)', ['a', v1('CREATE TABLE a (id int);')]);
  await assert.rejects(migrate({ url: db2.url, dir }), isDrift(/Migration 0001_a\.sql changed after it was applied: recorded checksum/));
});

test('hashes nulled by hand in a chained table are tampering, not a v1 table to adopt', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': A, '0002_b.sql': B });
  await migrate({ url: db.url, dir });
  await rows(db.url, 'UPDATE pgpress_migrations SET row_hash = NULL, previous_hash = NULL');
  await assert.rejects(migrate({ url: db.url, dir }), isDrift(/Tracking row 1 has no row hash/));
});
