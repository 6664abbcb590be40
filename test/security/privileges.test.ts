// The privilege matrix (issue #15 item 1): role × object × operation read from the catalog equals
// test/security/expected-privileges.tsv, and a grant made by hand shows up as a named extra line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { diffPrivilegeMatrix, readPrivilegeMatrix, type MatrixDiff } from '../../src/security/rolesMatrix.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const EXPECTED = 'test/security/expected-privileges.tsv';
const expected = readFileSync(EXPECTED, 'utf8').split('\n');

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function explain(d: MatrixDiff): string {
  return [
    `The catalog's privileges differ from ${EXPECTED}.`,
    'Missing (expected, not in the database):', ...d.missing.map((l) => `  ${l}`),
    'Extra (in the database, not expected) — paste into the file only if deliberate:', ...d.extra.map((l) => `  ${l}`),
  ].join('\n');
}

const db = await testDatabase();

test('the privilege matrix of a migrated database equals the expected file', async () => {
  const actual = await withClient(db.url, readPrivilegeMatrix);
  const d = diffPrivilegeMatrix(expected, actual);
  assert.deepEqual(d, { missing: [], extra: [] }, explain(d));
});

test('the application role: not superuser, no BYPASSRLS, owns nothing, may create in no schema, cannot touch the audit key or write the audit log', async () => {
  await withClient(db.url, async (c) => {
    const { rows: [role] } = await c.query<{ rolsuper: boolean; rolbypassrls: boolean; rolcreaterole: boolean; rolcreatedb: boolean }>(
      "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'pgpress_app'",
    );
    assert.deepEqual(role, { rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false });
    const owned = await c.query("SELECT relname FROM pg_class WHERE relowner = 'pgpress_app'::regrole UNION ALL SELECT proname FROM pg_proc WHERE proowner = 'pgpress_app'::regrole");
    assert.deepEqual(owned.rows, [], 'pgpress_app owns nothing');
    const create = await c.query("SELECT nspname FROM pg_namespace WHERE has_schema_privilege('pgpress_app', oid, 'CREATE')");
    assert.deepEqual(create.rows, [], 'no CREATE on any schema');
    const definer = await c.query(
      `SELECT oid::regprocedure::text AS f FROM pg_proc WHERE prosecdef AND pronamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM unnest(proconfig) s WHERE s LIKE 'search\\_path=%')`,
    );
    assert.deepEqual(definer.rows, [], 'every SECURITY DEFINER function pins search_path');
  });
  await withClient(db.appUrl, async (c) => {
    for (const sqlText of ['SELECT * FROM pgpress_audit_key', "UPDATE audit_log SET table_name = 'x'", 'DELETE FROM audit_log', 'TRUNCATE audit_log', 'CREATE TABLE public.intruder (x int)']) {
      await assert.rejects(c.query(sqlText), (e: { code?: string }) => e.code === '42501', `${sqlText} fails with 42501`);
    }
    // ...while the audited write itself works, its audit row written by the trigger as the owner.
    const { rows: [u] } = await c.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('m@example.com', 'matrix_user', 'M') RETURNING id");
    const { rows: [a] } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE table_name = 'users' AND row_id = $1", [u!.id]);
    assert.equal(a!.n, 1);
  });
});

test('the read-only role reads content but writes nothing and cannot read the audit log; the auditor reads only the audit log', async () => {
  const denied = (e: { code?: string }): boolean => e.code === '42501';
  await withClient(db.readonlyUrl, async (c) => {
    await c.query('SELECT count(*) FROM articles');
    await c.query('SELECT count(*) FROM article_analytics');
    await assert.rejects(c.query("INSERT INTO tags (name) VALUES ('ro')"), denied, 'read-only: INSERT');
    await assert.rejects(c.query('SELECT count(*) FROM audit_log'), denied, 'read-only: audit_log');
  });
  await withClient(db.auditorUrl, async (c) => {
    await c.query('SELECT count(*) FROM audit_log');
    await assert.rejects(c.query('SELECT count(*) FROM users'), denied, 'auditor: users');
    await assert.rejects(c.query('DELETE FROM audit_log'), denied, 'auditor: DELETE');
  });
});

test('a grant added by hand, or one taken away, makes the matrix differ on exactly those lines', async () => {
  const own = await testDatabase();
  await withClient(own.url, async (c) => {
    const before = await readPrivilegeMatrix(c);
    await c.query('GRANT UPDATE ON audit_log TO pgpress_app');
    await c.query('GRANT EXECUTE ON FUNCTION pgpress_refresh_matview(text, boolean, interval) TO PUBLIC');
    await c.query('REVOKE SELECT ON audit_log FROM pgpress_auditor');
    const d = diffPrivilegeMatrix(before, await readPrivilegeMatrix(c));
    const f = 'function\tpgpress_refresh_matview(text,boolean,interval)';
    assert.deepEqual(d, {
      // UPDATE joins the app's SELECT line; EXECUTE for PUBLIC reaches every role.
      extra: [`${f}\tpgpress_app\tEXECUTE`, `${f}\tpgpress_auditor\tEXECUTE`, `${f}\tpgpress_readonly\tEXECUTE`, `${f}\tpublic\tEXECUTE`, 'table\taudit_log\tpgpress_app\tSELECT,UPDATE'],
      missing: ['table\taudit_log\tpgpress_app\tSELECT', 'table\taudit_log\tpgpress_auditor\tSELECT'],
    }, explain(d));
  });
});
