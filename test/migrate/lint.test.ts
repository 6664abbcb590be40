// `migrate lint`: the real PostgreSQL parser, every rule firing on a sample migration, acknowledgements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lintFiles, lintMigrations, lintSql, LINT_RULES } from '../../src/migrate/index.ts';

const FIXTURE = 'test/migrate/fixtures/0099_dangerous.sql';

test('every rule fires on the sample migration, at the right line, with a safer alternative', async () => {
  const findings = await lintFiles([FIXTURE]);
  const got = findings.map((f) => `${f.line} ${f.rule}${f.acknowledged ? ' ack' : ''}`);
  assert.deepEqual(got, [
    '6 index-not-concurrent',
    '6 missing-lock-timeout',
    '7 add-not-null',
    '8 add-not-null',
    '9 volatile-default',
    '10 volatile-default',
    '11 column-type-change',
    '12 constraint-not-valid',
    '13 constraint-not-valid',
    '14 unique-without-index',
    '15 rename-column',
    '16 drop-column',
    '20 constraint-not-valid',
    '23 concurrently-in-transaction',
    '25 drop-column ack',
    '26 drop-column ack',
  ]);
  for (const rule of Object.keys(LINT_RULES)) assert.ok(findings.some((f) => f.rule === rule), `${rule} fires`);
  for (const f of findings) {
    assert.equal(f.file, '0099_dangerous.sql');
    assert.equal(f.alternative, LINT_RULES[f.rule as keyof typeof LINT_RULES]);
  }
  assert.match(findings.find((f) => f.rule === 'volatile-default')!.message, /DEFAULT gen_random_uuid\(\) rewrites all of articles/);
});

test('tables created earlier in the same migration are not "existing"; safe forms pass', async () => {
  const sql = [
    "SET LOCAL lock_timeout = '3s';",
    'CREATE TABLE IF NOT EXISTS t (id int);',
    'CREATE INDEX IF NOT EXISTS t_id_idx ON t (id);',
    'ALTER TABLE t ADD COLUMN IF NOT EXISTS n int NOT NULL DEFAULT 0;',
    'ALTER TABLE t RENAME COLUMN n TO m;',
    'ALTER TABLE t DROP COLUMN IF EXISTS m;',
    'ALTER TABLE articles ADD COLUMN IF NOT EXISTS seen_at timestamptz DEFAULT now();',
    'ALTER TABLE articles ADD CONSTRAINT articles_x CHECK (version > 0) NOT VALID;',
    'ALTER TABLE articles VALIDATE CONSTRAINT articles_x;',
    'ALTER TABLE users ADD CONSTRAINT users_u UNIQUE USING INDEX users_u_idx;',
  ].join('\n');
  assert.deepEqual(await lintSql('0005_ok.sql', sql), []);
  const noTx = '-- pgpress:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a_idx ON articles (slug);';
  assert.deepEqual(await lintSql('0006_ok.sql', noTx), []);
});

test('a syntax error is a finding at its line, from the real parser', async () => {
  const [f] = await lintSql('0007_typo.sql', 'CREATE TABLE a (id int);\n\nALTER TABLE a ADD COLUM x int;');
  assert.equal(f!.rule, 'syntax-error');
  assert.equal(f!.line, 3);
  assert.match(f!.message, /syntax error at or near "int"/);
});

test("the project's own migrations lint clean (or carry acknowledged findings)", async () => {
  const open = (await lintMigrations('migrations')).filter((f) => !f.acknowledged);
  assert.deepEqual(open, []);
});

test('the CLI stops quietly when its reader closes the pipe early (`pgpress migrate lint | head`)', async () => {
  const child = spawn(process.execPath, ['bin/pgpress.js', 'migrate', 'lint', FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first line is written
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.doesNotMatch(stderr, /EPIPE|Unhandled|at /, stderr);
  assert.equal(code, 1, 'the exit code is still the command\'s own (1: unacknowledged findings)');
});
