// The audit log keeps no personal data in clear text: personal columns are recorded as an
// HMAC-SHA256 under a key only the audit trigger reads, with the names of the columns that changed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import pg from 'pg';
import { quoteIdent } from '../../src/db/sql.ts';
import { migrate } from '../../src/migrate/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { name, url } = await testDatabase();
const c = new pg.Client({ connectionString: url });
c.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await c.connect();
// A role of its own (roles are cluster-wide: named after this file's database, dropped after).
const writer = quoteIdent(`${name}_writer`);
after(async () => {
  await c.query(`DROP OWNED BY ${writer}`).catch(() => undefined);
  await c.query(`DROP ROLE IF EXISTS ${writer}`).catch(() => undefined);
  await c.end();
});

const EMAIL = 'Alice.Private@example.org';
const NEW_EMAIL = 'alice.moved@example.net';
type AuditRow = { operation: string; old_row: Record<string, unknown> | null; new_row: Record<string, unknown> | null; changed_columns: string[] | null; whole: string };
async function auditOf(table: string, id: string): Promise<AuditRow[]> {
  // The whole row as JSON: every column, whatever the table holds.
  const { rows } = await c.query<{ r: AuditRow }>('SELECT to_jsonb(a) AS r FROM audit_log a WHERE table_name = $1 AND row_id = $2 ORDER BY id', [table, id]);
  return rows.map(({ r }) => ({ ...r, changed_columns: r.changed_columns ?? null, whole: JSON.stringify(r) }));
}

test('user rows are audited without their email, name or bio, with the changed columns and equal hashes for equal values', async () => {
  const { rows: [u] } = await c.query<{ id: string }>(
    "INSERT INTO users (email, username, display_name, bio) VALUES ($1, 'alice_private', 'Alice Private', 'Lives at 12 Elm Street') RETURNING id", [EMAIL]);
  await c.query('UPDATE users SET email = $2 WHERE id = $1', [u!.id, NEW_EMAIL]);
  await c.query("UPDATE users SET bio = 'Moved away' WHERE id = $1", [u!.id]);
  await c.query('UPDATE users SET email = $2 WHERE id = $1', [u!.id, EMAIL]);
  await c.query('DELETE FROM users WHERE id = $1', [u!.id]);

  const audit = await auditOf('users', u!.id);
  assert.deepEqual(audit.map((r) => r.operation), ['INSERT', 'UPDATE', 'UPDATE', 'UPDATE', 'DELETE']);
  for (const r of audit) {
    for (const clear of [EMAIL, NEW_EMAIL, 'alice.private', 'alice.moved', 'Alice Private', 'alice_private', 'Elm Street', 'Moved away']) {
      assert.ok(!r.whole.toLowerCase().includes(clear.toLowerCase()), `${r.operation} row holds "${clear}" in clear text: ${r.whole}`);
    }
  }
  const [ins, toNew, bio, back, del] = audit as [AuditRow, AuditRow, AuditRow, AuditRow, AuditRow];
  assert.deepEqual(toNew.changed_columns, ['email']);
  assert.deepEqual(bio.changed_columns, ['bio']);
  assert.deepEqual(back.changed_columns, ['email']);
  assert.equal(ins.changed_columns, null);
  // Keyed hashes: equal values hash equal, different values differ.
  assert.match(String(ins.new_row!.email), /^hmac:[0-9a-f]{64}$/);
  assert.equal(toNew.old_row!.email, ins.new_row!.email);
  assert.notEqual(toNew.new_row!.email, ins.new_row!.email);
  assert.equal(back.new_row!.email, ins.new_row!.email);
  assert.equal(del.old_row!.email, ins.new_row!.email);
  assert.equal(bio.old_row!.email, bio.new_row!.email, 'an unchanged email hashes the same on both sides');
  assert.notEqual(bio.old_row!.bio, bio.new_row!.bio);
  // What is not personal stays readable.
  assert.equal(ins.new_row!.id, Number(u!.id));
  // It is HMAC-SHA256 of the text under the database's key (here read as the superuser).
  const { rows: [k] } = await c.query<{ key: Buffer }>('SELECT key FROM pgpress_audit_key');
  assert.equal(k!.key.length, 32);
  assert.equal(ins.new_row!.email, `hmac:${createHmac('sha256', k!.key).update(EMAIL).digest('hex')}`);
  assert.equal(ins.new_row!.display_name, `hmac:${createHmac('sha256', k!.key).update('Alice Private').digest('hex')}`);
});

test('comment bodies are keyed hashes too; article snapshots keep their non-personal fields', async () => {
  const { rows: [u] } = await c.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('bo@example.org', 'bo_writer', 'Bo') RETURNING id");
  const { rows: [a] } = await c.query<{ id: string }>("INSERT INTO articles (author_id, title, slug, body) VALUES ($1, 'A title', 'a-title', 'text') RETURNING id", [u!.id]);
  const { rows: [cm] } = await c.query<{ id: string }>("INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, 'Call me on 555-0199') RETURNING id", [a!.id, u!.id]);
  const [comment] = await auditOf('comments', cm!.id);
  assert.ok(!comment!.whole.includes('555-0199'), comment!.whole);
  assert.match(String(comment!.new_row!.body), /^hmac:[0-9a-f]{64}$/);
  const [article] = await auditOf('articles', a!.id);
  assert.equal(article!.new_row!.title, 'A title');
  assert.equal(article!.new_row!.body_md5, '1cb251ec0d568de6a929b520c4aed8d1'); // md5('text'), as before
});

test('the key is readable only through the audit trigger: a writer without access to it is still audited', async () => {
  await c.query(`CREATE ROLE ${writer} NOLOGIN`);
  await c.query(`GRANT INSERT, UPDATE, SELECT ON users TO ${writer}`);
  await c.query(`GRANT SELECT, INSERT, UPDATE ON pgpress_source_changes TO ${writer}`); // the matview change counter
  await c.query(`GRANT INSERT ON pgpress_cache_changes TO ${writer}`); // the cache's change log
  await c.query('BEGIN');
  try {
    await c.query(`SET LOCAL ROLE ${writer}`);
    await assert.rejects(c.query('SAVEPOINT s; SELECT key FROM pgpress_audit_key'), /permission denied/);
    await c.query('ROLLBACK TO SAVEPOINT s');
    await assert.rejects(c.query(`SELECT pgpress_audit_redact('{"email":"x@y.z"}', ARRAY['email'])`), /permission denied/);
    await c.query('ROLLBACK TO SAVEPOINT s');
    const { rows: [u] } = await c.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('cy@example.org', 'cy_writer', 'Cy') RETURNING id");
    await c.query('RESET ROLE');
    const [row] = await auditOf('users', u!.id);
    assert.match(String(row!.new_row!.email), /^hmac:[0-9a-f]{64}$/);
  } finally {
    await c.query('ROLLBACK');
  }
});

test('audit rows written before the redaction (archived months too) are redacted by the migration that follows it', async () => {
  const db = await testDatabase({ empty: true });
  await migrate({ url: db.url, dir: 'migrations', to: 27 });
  const old = new pg.Client({ connectionString: db.url });
  await old.connect();
  try {
    const { rows: [u] } = await old.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('dora@example.org', 'dora_old', 'Dora Old') RETURNING id");
    await old.query("UPDATE users SET display_name = 'Dora Older' WHERE id = $1", [u!.id]);
    await old.query('CREATE TABLE audit_log_p2020_01_archived (LIKE audit_log)');
    await old.query("INSERT INTO audit_log_p2020_01_archived SELECT * FROM audit_log WHERE table_name = 'users'");
    assert.match(JSON.stringify((await old.query('SELECT to_jsonb(a) AS r FROM audit_log a')).rows), /dora@example\.org/, 'written in clear text before');

    await migrate({ url: db.url, dir: 'migrations' });
    for (const table of ['audit_log', 'audit_log_p2020_01_archived']) {
      const { rows } = await old.query<{ r: Record<string, unknown> }>(`SELECT to_jsonb(a) AS r FROM ${quoteIdent(table)} a WHERE table_name = 'users' ORDER BY id`);
      assert.equal(rows.length, 2, table);
      const text = JSON.stringify(rows);
      assert.doesNotMatch(text, /dora/i, `${table} keeps no clear text`);
      const [ins, upd] = rows.map((x) => x.r) as [Record<string, Record<string, string>>, Record<string, Record<string, string>>];
      assert.equal(upd.old_row!.email, ins.new_row!.email);
      assert.notEqual(upd.old_row!.display_name, upd.new_row!.display_name);
      if (table === 'audit_log') assert.deepEqual(upd.changed_columns, ['display_name']);
      // The same hash a new row gets for the same email.
      const { rows: [k] } = await old.query<{ key: Buffer }>('SELECT key FROM pgpress_audit_key');
      assert.equal(ins.new_row!.email, `hmac:${createHmac('sha256', k!.key).update('dora@example.org').digest('hex')}`);
    }
  } finally {
    await old.end();
  }
});
