import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings, redactUrl } from '../../src/config/settings.ts';
import { isPgpressError } from '../../src/errors/index.ts';

test('defaults apply when the environment is empty', () => {
  const s = loadSettings({});
  assert.equal(s.databaseUrl, undefined);
  assert.equal(s.host, '127.0.0.1');
  assert.equal(s.port, 3000);
  assert.equal(s.dataDir, '.pgpress');
  assert.equal(s.pool.max, 16);
  assert.equal(s.migrateOnStart, true);
  assert.ok(Object.isFrozen(s));
  assert.ok(Object.isFrozen(s.pool));
});

test('values are parsed and typed', () => {
  const s = loadSettings({ PORT: '8080', DB_POOL_MAX: '4', DB_NAMED_STATEMENTS: 'false', DATABASE_URL: 'postgres://u:secret@db:5432/app' });
  assert.equal(s.port, 8080);
  assert.equal(s.pool.max, 4);
  assert.equal(s.pool.namedStatements, false);
  assert.equal(s.databaseUrl, 'postgres://u:secret@db:5432/app');
});

test('a bad value names the variable, the problem and the expected form', () => {
  assert.throws(
    () => loadSettings({ PORT: 'eighty', DATABASE_URL: 'mysql://u:hunter2@x/y' }),
    (e: unknown) => {
      assert.ok(isPgpressError(e));
      assert.equal(e.code, 'PGP_CONFIG_INVALID');
      assert.match(e.message, /PORT="eighty": must be a whole number/);
      assert.match(e.message, /DATABASE_URL=.*must start with postgres:\/\//);
      assert.doesNotMatch(e.message, /hunter2/, 'the password must not be printed');
      return true;
    },
  );
  assert.throws(() => loadSettings({ PORT: '70000' }), /PORT="70000": must be at most 65535/);
  assert.throws(() => loadSettings({ MIGRATE_ON_START: 'maybe' }), /MIGRATE_ON_START="maybe": must be true or false/);
});

test('secrets never print', () => {
  const s = loadSettings({ DATABASE_URL: 'postgres://u:hunter2@db/app', REDIS_URL: 'redis://:hunter3@r:6379' });
  const printed = JSON.stringify(s) + String(Object.keys(s));
  assert.doesNotMatch(printed, /hunter2|hunter3/);
  assert.equal(redactUrl('postgres://u:hunter2@db/app'), 'postgres://u:***@db/app');
});

test('cluster settings: replica URLs, lanes, retry, breaker and replica bounds', () => {
  const s = loadSettings({
    DATABASE_REPLICA_URLS: 'postgres://u:pw1@r1:5432/app, postgres://u:pw2@r2:5432/app',
    DB_CRITICAL_POOL_MAX: '3',
    DB_BACKGROUND_STATEMENT_TIMEOUT_MS: '60000',
    DB_LIFETIME_JITTER_PCT: '10',
    DB_RETRY_BUDGET_PCT: '5',
    DB_REPLICA_MAX_LAG_MS: '2000',
  });
  assert.deepEqual(s.replicaUrls, ['postgres://u:pw1@r1:5432/app', 'postgres://u:pw2@r2:5432/app']);
  assert.equal(JSON.stringify(s).includes('pw1'), false, 'replica passwords never print');
  assert.equal(s.pool.lanes.critical.max, 3);
  assert.equal(s.pool.lanes.background.statementTimeoutMs, 60_000);
  assert.equal(s.pool.lifetimeJitter, 0.1);
  assert.equal(s.pool.retry.budgetRatio, 0.05);
  assert.equal(s.pool.replicas.maxLagMs, 2_000);
  assert.deepEqual(loadSettings({}).replicaUrls, []);
  assert.throws(
    () => loadSettings({ DATABASE_REPLICA_URLS: 'postgres://u:hunter2@r1/app,mysql://u:hunter3@x/y' }),
    (e: unknown) => {
      const m = (e as Error).message;
      assert.match(m, /DATABASE_REPLICA_URLS/);
      assert.equal(/hunter/.test(m), false, m);
      return true;
    },
  );
});
