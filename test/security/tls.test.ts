// TLS to PostgreSQL (issue #15 item 5): a throwaway cluster with a certificate from the test's own
// CA. sslmode=verify-full with the right CA and host connects (encrypted); the wrong CA, or a host
// name the certificate does not carry, is refused before any query.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { urlTls } from '../../src/db/tls.ts';
import { securityChecks } from '../../src/security/doctorChecks.ts';
import { createStore } from '../../src/store.ts';
import { sql } from '../../src/db/sql.ts';
import { ensureTool } from '../harness/debianTool.ts';
import { pgOwner, startCluster } from '../harness/pgCluster.ts';

const openssl = ensureTool({ command: 'openssl', candidates: ['/usr/bin/openssl'], pkg: 'openssl', neededBy: 'test/security/tls.test.ts (a CA and server certificate)' });
const dir = mkdtempSync(join(tmpdir(), 'pgpress-tls-'));
chmodSync(dir, 0o755); // the postgres OS user reads the server's certificate and key here
after(() => rmSync(dir, { recursive: true, force: true }));

const ssl = (...args: string[]): void => void execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
/** A self-signed CA: name.key, name.crt. */
function ca(name: string): void {
  ssl('req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=pgpress test ${name}`);
}
ca('ca');
ca('other-ca');
// The server's certificate names 127.0.0.1 only (IP SAN), signed by ca.
ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
appendFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
const { uid, gid } = pgOwner();
for (const f of ['server.key', 'server.crt']) {
  if (uid !== undefined && gid !== undefined) chownSync(join(dir, f), uid, gid);
  chmodSync(join(dir, f), 0o600);
}

// Listening on 127.0.0.2 too: a loopback address the certificate does not name.
const cluster = await startCluster({
  settings: {
    listen_addresses: '127.0.0.1,127.0.0.2', ssl: 'on', ssl_cert_file: join(dir, 'server.crt'), ssl_key_file: join(dir, 'server.key'),
    shared_preload_libraries: 'pg_stat_statements', // for doctor's check below
  },
});
after(() => cluster.destroy());
appendFileSync(join(cluster.primary.dataDir, 'pg_hba.conf'), 'hostssl all all 127.0.0.2/32 trust\n');
await cluster.primary.query('SELECT pg_reload_conf()');

const port = cluster.primary.port;
const url = (host: string, params: string): string => `postgres://postgres@${host}:${port}/postgres?${params}`;
const encrypted = sql('test.tls.encrypted', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');

/** Connects through the store (its Cluster's pool), returns whether the session is encrypted. */
async function connectThroughStore(u: string): Promise<boolean> {
  const store = await createStore({ url: u, pool: { max: 1, acquireTimeoutMs: 10_000, retry: { maxAttempts: 1, budgetRatio: 0 } } });
  try {
    const { rows } = await store.cluster.query<{ ssl: boolean }>(encrypted, [], { read: false });
    return rows[0]!.ssl;
  } finally {
    await store.close();
  }
}

test('sslmode=verify-full with the right CA and host connects, encrypted', async () => {
  const u = url('127.0.0.1', `sslmode=verify-full&sslrootcert=${join(dir, 'ca.crt')}`);
  assert.deepEqual(urlTls(u), { sslmode: 'verify-full', rootCert: join(dir, 'ca.crt'), encrypted: true, verifiesServer: true });
  assert.equal(await connectThroughStore(u), true);
});

test('the wrong CA is refused', async () => {
  await assert.rejects(connectThroughStore(url('127.0.0.1', `sslmode=verify-full&sslrootcert=${join(dir, 'other-ca.crt')}`)), (e: Error) => {
    const text = `${e.message} ${String((e as { cause?: Error }).cause?.message ?? '')}`;
    assert.match(text, /certificate|self[- ]signed|unable to (get|verify)/i, text);
    return true;
  });
});

test('a host name the certificate does not carry is refused; without verification the same server answers', async () => {
  await assert.rejects(connectThroughStore(url('127.0.0.2', `sslmode=verify-full&sslrootcert=${join(dir, 'ca.crt')}`)), (e: Error) => {
    const text = `${e.message} ${String((e as { cause?: Error }).cause?.message ?? '')}`;
    assert.match(text, /127\.0\.0\.2|altnames|does not match|IP/i, text);
    return true;
  });
  // The control: the refusal above is the certificate check, not the server or pg_hba.conf.
  const loose = url('127.0.0.2', 'sslmode=no-verify');
  assert.equal(urlTls(loose).verifiesServer, false);
  assert.equal(await connectThroughStore(loose), true);
});

test('doctor on this server: ssl on, loopback only, pg_stat_statements loaded — none of those flagged', async () => {
  await cluster.primary.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const c = new pg.Client({ connectionString: url('127.0.0.1', `sslmode=verify-full&sslrootcert=${join(dir, 'ca.crt')}`) });
  await c.connect();
  try {
    const checks = new Map((await securityChecks(c, { appUrl: url('127.0.0.1', 'sslmode=verify-full') })).map((x) => [x.check, x.state]));
    assert.equal(checks.get('ssl_off'), 'ok');
    assert.equal(checks.get('listen_without_ssl'), 'ok');
    assert.equal(checks.get('pg_stat_statements_missing'), 'ok');
  } finally {
    await c.end();
  }
});
