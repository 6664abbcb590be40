// Every migration in migrations/ can be applied twice without error or change: proven per file and for the set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate, readMigrations } from '../../src/migrate/index.ts';
import { catalogSnapshot, diffSnapshots } from '../../src/migrate/catalogSnapshot.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const files = await readMigrations('migrations');
const db = await testDatabase({ empty: true });

async function snapshot(): Promise<Awaited<ReturnType<typeof catalogSnapshot>>> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return await catalogSnapshot(c);
  } finally {
    await c.end();
  }
}

async function forget(sql: string, params: unknown[] = []): Promise<void> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}

test('the project has migrations to check', () => {
  assert.ok(files.length >= 2);
});

for (const file of files) {
  test(`${file.file} applied a second time changes nothing`, async () => {
    await migrate({ url: db.url, dir: 'migrations', to: file.version });
    const once = await snapshot();
    await forget('DELETE FROM pgpress_migrations WHERE version = $1', [file.version]);
    const again = await migrate({ url: db.url, dir: 'migrations', to: file.version });
    assert.deepEqual(again.map((m) => m.version), [file.version], 'only this migration re-ran');
    assert.deepEqual(diffSnapshots(once, await snapshot()), [], `${file.file} is not idempotent`);
  });
}

test('the whole set applied again over itself (tracking rows forgotten) leaves an identical catalog', async () => {
  await migrate({ url: db.url, dir: 'migrations' });
  const once = await snapshot();
  for (const section of ['tables', 'columns', 'indexes', 'constraints'] as const) assert.ok(once[section].length > 0, `snapshot has ${section}`);
  await forget('DELETE FROM pgpress_migrations');
  const again = await migrate({ url: db.url, dir: 'migrations' });
  assert.equal(again.length, files.length);
  assert.deepEqual(diffSnapshots(once, await snapshot()), []);
  assert.deepEqual(await snapshot(), once);
});
