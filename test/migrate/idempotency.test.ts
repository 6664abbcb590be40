// Every migration in migrations/ can be applied twice without error or change: proven per file and for the set.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate, readMigrations } from '../../src/migrate/index.ts';
import { catalogSnapshot, diffSnapshots } from '../../src/migrate/catalogSnapshot.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const files = await readMigrations('migrations');
const db = await testDatabase({ empty: true });

// One connection for every snapshot and tracking-row delete (a connection per call cost a connect
// and a cold catalog cache, ~0.1 s, twice per file); migrate() runs on its own connections.
const client = new pg.Client({ connectionString: db.url });
client.on('error', () => {}); // the database's drop after the file ends the connection
await client.connect();
after(() => client.end());

function snapshot(): ReturnType<typeof catalogSnapshot> {
  return catalogSnapshot(client);
}

async function forget(sql: string, params: unknown[] = []): Promise<void> {
  await client.query(sql, params);
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
