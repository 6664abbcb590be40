// `pgpress migrate` as real processes: four at once, one killed mid-migration, repair's confirmation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabase } from '../harness/testDatabase.ts';
import { migrationsDir, rows } from './helpers.ts';

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function pgpress(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['bin/pgpress.js', ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', MIGRATE_LOCK_RETRIES: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

async function until(what: string, fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('four concurrent `pgpress migrate` processes apply each migration exactly once', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({});
  cpSync('migrations', dir, { recursive: true });
  writeFileSync(join(dir, '9001_slow.sql'), 'SELECT pg_sleep(0.5);\nCREATE TABLE IF NOT EXISTS slow_marker (id int);\n');
  const expected = readdirSync(dir).filter((f) => /^\d{4,}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const runs = [1, 2, 3, 4].map(() => pgpress(['migrate'], { DATABASE_URL: db.url, MIGRATIONS_DIR: dir }));
  const results = await Promise.all(runs.map((r) => r.done));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const applied = results.flatMap((r) => [...r.stdout.matchAll(/^applied (\S+) in/gm)].map((m) => m[1]!)).sort();
  assert.deepEqual(applied, expected, 'every file applied by exactly one process');
  const tracked = await rows<{ version: number }>(db.url, 'SELECT version FROM pgpress_migrations ORDER BY version');
  assert.equal(tracked.length, expected.length);
});

test('a runner killed mid-migration leaves nothing half-applied and the next run completes', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({
    '0001_first.sql': 'CREATE TABLE IF NOT EXISTS first_t (id int);\n',
    // Sleeps only until the test creates go_fast, so the rerun of the same file is quick.
    '0002_slow.sql':
      'CREATE TABLE IF NOT EXISTS half_a (id int);\nSELECT pg_sleep(30) WHERE to_regclass(\'public.go_fast\') IS NULL;\nCREATE TABLE IF NOT EXISTS half_b (id int);\n',
  });
  const env = { DATABASE_URL: db.url, MIGRATIONS_DIR: dir };
  const victim = pgpress(['migrate'], env);
  await until('the runner to sleep inside 0002', async () => (await rows(db.url, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(30)%'")).length === 1);
  victim.child.kill('SIGKILL');
  assert.equal((await victim.done).signal, 'SIGKILL');

  // client_connection_check_interval lets the server notice the dead client without waiting 30 s.
  await until('the killed backend to end', async () => (await rows(db.url, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pgpress-migrate'")).length === 0, 10_000);
  const between = await rows<{ a: string | null; v: number }>(db.url, "SELECT to_regclass('half_a')::text AS a, (SELECT count(*)::int FROM pgpress_migrations) AS v");
  assert.equal(between[0]!.a, null, 'the killed migration left no table');
  assert.equal(between[0]!.v, 1, 'only 0001 is recorded');

  await rows(db.url, 'CREATE TABLE go_fast ()');
  const rerun = await pgpress(['migrate'], env).done;
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stdout, /applied 0002_slow\.sql/);
  const after = await rows<{ a: string; b: string; v: number }>(db.url, "SELECT to_regclass('half_a')::text AS a, to_regclass('half_b')::text AS b, (SELECT count(*)::int FROM pgpress_migrations) AS v");
  assert.deepEqual(after[0], { a: 'half_a', b: 'half_b', v: 2 });
});

test('repair without a terminal refuses unless --yes confirms it', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir({ '0001_a.sql': 'CREATE TABLE IF NOT EXISTS a (id int);\n' });
  const env = { DATABASE_URL: db.url, MIGRATIONS_DIR: dir };
  assert.equal((await pgpress(['migrate'], env).done).code, 0);
  writeFileSync(join(dir, '0001_a.sql'), 'CREATE TABLE IF NOT EXISTS a (id bigint);\n');

  const refused = await pgpress(['migrate', 'repair', '1'], env).done;
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /PGP_VALIDATION: .*pass --yes/);
  const drift = await pgpress(['migrate'], env).done;
  assert.equal(drift.code, 1);
  assert.match(drift.stderr, /PGP_MIGRATION_DRIFT: Migration 0001_a\.sql changed after it was applied/);

  const repaired = await pgpress(['migrate', 'repair', '1', '--yes'], env).done;
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(repaired.stdout, /Repaired 0001_a\.sql/);
  assert.equal((await pgpress(['migrate'], env).done).code, 0);
});

test('`migrate up --dry-run`, `migrate lint` and `migrate validate` from the command line', async () => {
  const db = await testDatabase({ empty: true });
  const env = { DATABASE_URL: db.url, MIGRATIONS_DIR: 'migrations' };
  const [dry, lint, lintOwn] = await Promise.all([
    pgpress(['migrate', 'up', '--to', '1', '--dry-run'], env).done,
    pgpress(['migrate', 'lint', 'test/migrate/fixtures/0099_dangerous.sql'], env).done,
    pgpress(['migrate', 'lint'], env).done,
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /Would apply 1 migration\(s\)[\s\S]*0001_users\.sql[\s\S]*-- line 2\n {4}-- Users: .*\n {4}CREATE TABLE IF NOT EXISTS users/);
  assert.deepEqual(await rows(db.url, "SELECT to_regclass('users') AS t"), [{ t: null }]);
  assert.equal(lint.code, 1);
  assert.match(lint.stdout, /^0099_dangerous\.sql:6 {2}index-not-concurrent {2}CREATE INDEX articles_title_idx on existing table articles.*\n {4}safer: CREATE INDEX CONCURRENTLY/m);
  assert.match(lint.stdout, /16 finding\(s\), 14 not acknowledged\./);
  assert.equal(lintOwn.code, 0, lintOwn.stdout);

  assert.equal((await pgpress(['migrate'], env).done).code, 0);
  await rows(db.url, 'CREATE INDEX by_hand ON users (created_at)');
  const validate = await pgpress(['migrate', 'validate'], env).done;
  assert.equal(validate.code, 2, validate.stderr);
  assert.match(validate.stdout, /schema drift in indexes:\n {2}\+ CREATE INDEX by_hand ON public\.users .*made by hand\?/);
});
