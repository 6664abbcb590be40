// lock_timeout on migration DDL, with bounded retries, and non-transactional files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/migrate/index.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { migrationsDir, rows } from './helpers.ts';

async function holder(url: string, sql: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query(sql);
  return c;
}

test('DDL behind a long transaction gives up after bounded retries and never blocks application reads for long', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_t.sql': 'CREATE TABLE IF NOT EXISTS t (id int);' });
  await migrate({ url: db.url, dir });
  writeFileSync(join(dir, '0002_add_c.sql'), 'ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;');
  const longReader = await holder(db.url, 'SELECT * FROM t'); // holds ACCESS SHARE until it ends
  try {
    const log: string[] = [];
    const running = migrate({ url: db.url, dir, lock: { timeoutMs: 300, retries: 2, baseDelayMs: 50 }, log: (m) => log.push(m) });
    // While the migration is queued for ACCESS EXCLUSIVE, an application read queues behind it, but only until lock_timeout.
    await new Promise((r) => setTimeout(r, 100));
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    await app.query("SET statement_timeout = '5s'");
    await app.query('SELECT count(*) FROM t'); // would fail with statement_timeout if the DDL waited without lock_timeout
    await app.end();
    await assert.rejects(running, (e: unknown) => {
      assert.ok(isPgpressError(e) && e.code === 'PGP_MIGRATION_FAILED');
      assert.match(e.message, /0002_add_c\.sql failed at line 1 .*lock timeout.*gave up after 3 tries of lock_timeout 300 ms/s);
      return true;
    });
    assert.equal(log.filter((l) => /lock_timeout \(300 ms\) hit, retry \d\/2/.test(l)).length, 2);
  } finally {
    await longReader.end();
  }
  assert.equal((await rows(db.url, "SELECT 1 FROM pgpress_migrations WHERE version = 2")).length, 0);
});

test('a retry succeeds once the blocking transaction ends', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_t.sql': 'CREATE TABLE IF NOT EXISTS t (id int);' });
  await migrate({ url: db.url, dir });
  writeFileSync(join(dir, '0002_add_c.sql'), 'ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;');
  const blocker = await holder(db.url, 'LOCK TABLE t IN ACCESS SHARE MODE');
  const log: string[] = [];
  const running = migrate({
    url: db.url, dir, lock: { timeoutMs: 200, retries: 20, baseDelayMs: 50 },
    log: (m) => {
      log.push(m);
      if (/retry 1\//.test(m)) void blocker.end();
    },
  });
  assert.deepEqual((await running).map((m) => m.version), [2]);
  assert.ok(log.some((l) => /retry 1\//.test(l)), 'it had to retry');
});

const DUPES = "CREATE TABLE IF NOT EXISTS t (v int);\nINSERT INTO t VALUES (1), (1), (2);\n";
const UNIQUE_CONCURRENTLY = '-- pgpress:no-transaction\n-- builds without blocking writes\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_v_key ON t (v);\n';

test('a non-transactional migration runs CREATE INDEX CONCURRENTLY and, on failure, drops the invalid index it left', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_t.sql': DUPES, '0002_t_v_key.sql': UNIQUE_CONCURRENTLY });
  await assert.rejects(migrate({ url: db.url, dir }), (e: unknown) => {
    assert.ok(isPgpressError(e) && e.code === 'PGP_MIGRATION_FAILED');
    assert.match(e.message, /0002_t_v_key\.sql failed at line 3 \(CREATE UNIQUE INDEX CONCURRENTLY .*could not create unique index.*non-transactional file/);
    return true;
  });
  assert.deepEqual(await rows(db.url, 'SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid'), [], 'no invalid index left behind');
  await rows(db.url, 'DELETE FROM t WHERE ctid = (SELECT min(ctid) FROM t WHERE v = 1)');
  assert.deepEqual((await migrate({ url: db.url, dir })).map((m) => m.version), [2]);
  const [idx] = await rows<{ valid: boolean }>(db.url, "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 't_v_key'::regclass");
  assert.equal(idx!.valid, true);
});

test('an invalid index left by a killed run is dropped and rebuilt, not kept by IF NOT EXISTS', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_t.sql': DUPES });
  await migrate({ url: db.url, dir });
  // What a runner killed mid-build leaves: an INVALID t_v_key.
  await rows(db.url, 'CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v)').catch(() => undefined);
  assert.equal((await rows(db.url, 'SELECT 1 FROM pg_index WHERE NOT indisvalid')).length, 1);
  await rows(db.url, 'DELETE FROM t WHERE ctid = (SELECT min(ctid) FROM t WHERE v = 1)');
  writeFileSync(join(dir, '0002_t_v_key.sql'), UNIQUE_CONCURRENTLY);
  const log: string[] = [];
  await migrate({ url: db.url, dir, log: (m) => log.push(m) });
  assert.ok(log.some((l) => /dropped invalid index\(es\) left by an earlier attempt: public\.t_v_key/.test(l.replace(/"/g, ''))), log.join('\n'));
  const [idx] = await rows<{ valid: boolean }>(db.url, "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 't_v_key'::regclass");
  assert.equal(idx!.valid, true);
});
