// `pgpress doctor` flags (issue #15 item 5), each produced on a real server: a superuser or owner
// as the application role, trust for non-loopback clients in pg_hba.conf, ssl off, listening
// beyond loopback without ssl, pg_stat_statements missing. (ssl on and pg_stat_statements loaded
// are checked on the TLS cluster of tls.test.ts.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { connectionTlsCheck, hbaRuleIsLoopback, listensBeyondLoopback, securityChecks, type SecurityCheck } from '../../src/security/doctorChecks.ts';
import { startCluster } from '../harness/pgCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';

async function checksAt(url: string, privileged?: string): Promise<Map<string, SecurityCheck>> {
  const app = new pg.Client({ connectionString: url });
  const other = privileged ? new pg.Client({ connectionString: privileged }) : undefined;
  await app.connect();
  await other?.connect();
  try {
    const checks = await securityChecks(app, { appUrl: url, privileged: other ? [other] : [] });
    return new Map(checks.map((c) => [c.check, c]));
  } finally {
    await app.end();
    await other?.end();
  }
}

test('pure rules: which listen_addresses and hba addresses reach beyond loopback', () => {
  for (const l of ['*', '0.0.0.0', '::', '10.1.2.3', '127.0.0.1,192.168.1.5']) assert.equal(listensBeyondLoopback(l), true, l);
  for (const l of ['127.0.0.1', 'localhost', '127.0.0.1,::1', '']) assert.equal(listensBeyondLoopback(l), false, l);
  assert.equal(hbaRuleIsLoopback('127.0.0.1', '255.255.255.255'), true);
  assert.equal(hbaRuleIsLoopback('127.0.0.0', '255.0.0.0'), true);
  assert.equal(hbaRuleIsLoopback('::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), true);
  assert.equal(hbaRuleIsLoopback('127.0.0.0', '128.0.0.0'), false, '127/1 covers half the internet');
  for (const a of ['all', 'samehost', 'samenet', 'db.example.com', '10.0.0.0']) assert.equal(hbaRuleIsLoopback(a, ''), false, a);
});

test('the connection check: loopback needs nothing; a remote host needs TLS that verifies the server', () => {
  assert.equal(connectionTlsCheck('postgres://u@127.0.0.1:5432/db', false), undefined);
  assert.equal(connectionTlsCheck('postgres://u@db.example.com/db', false)?.state, 'flag');
  assert.match(connectionTlsCheck('postgres://u@db.example.com/db?sslmode=no-verify', true)!.message, /does not verify/);
  assert.match(connectionTlsCheck('postgres://u@db.example.com/db?uselibpqcompat=true&sslmode=require', true)!.message, /does not verify/);
  assert.equal(connectionTlsCheck('postgres://u@db.example.com/db?sslmode=verify-full&sslrootcert=/ca.crt', true)?.state, 'ok');
  assert.equal(connectionTlsCheck('postgres://u@db1.example.com:5432,db2.example.com:5432/db?sslmode=verify-full', true)?.state, 'ok');
});

test('a wide-open server: superuser app role, trust for a non-loopback network, ssl off, listening on *, no pg_stat_statements — each flagged', async () => {
  // listen '*' without ssl is the flag under test; the only non-loopback rule names TEST-NET-1
  // (192.0.2.0/24, never routed), so no real host can use the open port.
  const cluster = await startCluster({ settings: { listen_addresses: '*' } });
  after(() => cluster.destroy());
  appendFileSync(`${cluster.primary.dataDir}/pg_hba.conf`, 'host all all 192.0.2.0/24 trust\n');
  await cluster.primary.query('SELECT pg_reload_conf()');
  const c = await checksAt(cluster.primary.url);
  for (const name of ['app_role_superuser', 'trust_non_loopback', 'ssl_off', 'listen_without_ssl', 'pg_stat_statements_missing']) {
    assert.equal(c.get(name)?.state, 'flag', `${name}: ${JSON.stringify(c.get(name))}`);
  }
  assert.match(c.get('trust_non_loopback')!.message, /192\.0\.2\.0\/255\.255\.255\.0/);

  // The CLI prints the same flags (the database is not migrated, so doctor also says NOT READY: exit 1).
  const run = promisify(execFile)(process.execPath, ['bin/pgpress.js', 'doctor', '--json'], {
    env: { ...process.env, DATABASE_URL: cluster.primary.url, MIGRATIONS_DIR: 'migrations', LOG_LEVEL: 'silent' },
  });
  const out = await run.then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? '');
  const security = (JSON.parse(out) as { security: SecurityCheck[] }).security;
  assert.deepEqual(security.filter((s) => s.state === 'flag').map((s) => s.check).sort(),
    ['app_role_bypassrls', 'app_role_superuser', 'listen_without_ssl', 'pg_stat_statements_missing', 'ssl_off', 'trust_non_loopback']);
});

test('the application role on a migrated database is neither superuser nor owner nor BYPASSRLS; the owner used as the app is flagged', async () => {
  const db = await testDatabase();
  const app = await checksAt(db.appUrl);
  for (const name of ['app_role_superuser', 'app_role_owner', 'app_role_bypassrls']) assert.equal(app.get(name)?.state, 'ok', `${name}: ${JSON.stringify(app.get(name))}`);
  // pg_hba_file_rules is a superuser's to read: unknown from the app role, read through the admin URL.
  assert.equal(app.get('trust_non_loopback')?.state, 'unknown');
  assert.notEqual((await checksAt(db.appUrl, db.url)).get('trust_non_loopback')?.state, 'unknown');
  const owner = await checksAt(db.ownerUrl);
  assert.equal(owner.get('app_role_owner')?.state, 'flag', JSON.stringify(owner.get('app_role_owner')));
  assert.equal(owner.get('app_role_bypassrls')?.state, 'flag');
});
