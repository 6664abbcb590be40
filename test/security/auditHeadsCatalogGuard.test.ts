// The catalog event trigger (0089) is database-wide: once audit_log is gone (dropped by hand, a
// teardown, a partial restore), it must step aside instead of failing every ALTER TABLE and GRANT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { testDatabase } from '../harness/testDatabase.ts';

test('without audit_log, ALTER TABLE and GRANT still run; with it, a GRANT is an entry', async () => {
  const db = await testDatabase();
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query('GRANT UPDATE ON tags TO pgpress_readonly');
    const { rows } = await admin.query<{ operation: string }>(
      "SELECT operation FROM audit_log WHERE table_name = 'pg_catalog' AND row_key = 'table tags' ORDER BY id");
    assert.deepEqual(rows.map((r) => r.operation), ['GRANT']);

    await admin.query('DROP TABLE audit_log CASCADE');
    await admin.query('ALTER TABLE tags ADD COLUMN guard_probe integer');
    await admin.query('REVOKE UPDATE ON tags FROM pgpress_readonly');
  } finally {
    await admin.end();
  }
});
