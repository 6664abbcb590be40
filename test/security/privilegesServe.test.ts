// serve with the roles: DATABASE_URL as pgpress_app and MIGRATION_DATABASE_URL as pgpress_owner
// start quietly, migrate as the owner and hand the scheduler the owner's cluster; a superuser
// DATABASE_URL still starts (existing deployments) but logs a security warning per problem.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../../src/config/settings.ts';
import { sql } from '../../src/db/sql.ts';
import { startServer } from '../../src/http/server.ts';
import { migrate } from '../../src/migrate/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pgpress-roles-serve-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
const db = await testDatabase();
const whoAmI = sql('test.rolesServe.whoAmI', 'SELECT current_user AS who');
const base = { PORT: '0', PGPRESS_DATA_DIR: dataDir, SHED_EVENT_LOOP_DELAY_MS: '0', CACHE_ENABLED: 'false' };

test('app role + owner URL: migrations run as the owner, the store as the app, maintenance on the owner, no warning', async () => {
  const logs = captureLogs();
  const settings = loadSettings({ ...base, DATABASE_URL: db.appUrl, MIGRATION_DATABASE_URL: db.ownerUrl, MIGRATE_ON_START: 'true' });
  const server = await startServer(settings, createLogger('info', logs.stream));
  try {
    assert.equal((await server.store.cluster.query<{ who: string }>(whoAmI)).rows[0]!.who, 'pgpress_app');
    assert.equal((await server.maintenance.cluster.query<{ who: string }>(whoAmI)).rows[0]!.who, 'pgpress_owner');
    assert.notEqual(server.maintenance.cluster, server.store.cluster);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  } finally {
    await server.close();
  }
  assert.deepEqual(logs.lines().filter((l) => String(l.msg).startsWith('security:')), []);
  assert.ok(logs.lines().some((l) => l.msg === 'migrations current'), 'migrate-on-start ran (as the owner)');
});

test('a superuser DATABASE_URL starts, with a security warning naming the problem', async () => {
  const logs = captureLogs();
  const settings = loadSettings({ ...base, DATABASE_URL: db.url, MIGRATE_ON_START: 'false' });
  const server = await startServer(settings, createLogger('warn', logs.stream));
  try {
    assert.equal(server.maintenance.cluster, server.store.cluster, 'one URL: one cluster');
  } finally {
    await server.close();
  }
  const warned = logs.lines().filter((l) => String(l.msg).startsWith('security:')).map((l) => l.check);
  assert.ok(warned.includes('app_role_superuser'), JSON.stringify(warned));
});

test('migrating as the application role stops with a message that says to use the owner', async () => {
  await assert.rejects(migrate({ url: db.appUrl, dir: 'migrations' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'PGP_MIGRATION_FAILED');
    assert.match(e.message, /"pgpress_app".*MIGRATION_DATABASE_URL/s);
    return true;
  });
});
