// The audit log is a hash chain: whatever the owner (here the superuser) edits, deletes, inserts or
// reorders directly in audit_log, `pgpress audit verify` names the entry; untouched, it finds nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { verifyAuditLog, type AuditFinding } from '../../src/security/auditVerify.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const run = promisify(execFile);

interface Entry { id: string; chain: number; seq: number }

/** A database whose log holds one chain of entries written by the app role; the admin client. */
async function freshLog(): Promise<{ url: string; admin: pg.Client; entries: Entry[] }> {
  const db = await testDatabase();
  const app = new pg.Client({ connectionString: db.appUrl });
  await app.connect();
  // Each write in a transaction of its own, with the request context row-level security asks for.
  const tx = async (text: string, params: unknown[] = []): Promise<string> => {
    await app.query('BEGIN');
    await app.query("SELECT set_config('pgpress.actor_id', '1', true), set_config('pgpress.role', 'admin', true)");
    const { rows } = await app.query<{ id: string }>(text, params);
    await app.query('COMMIT');
    return rows[0]?.id ?? '';
  };
  try {
    const u = await tx("INSERT INTO users (email, username, display_name) VALUES ('t@example.org', 'tamper', 'T') RETURNING id");
    const a = await tx("INSERT INTO articles (author_id, title, slug, body) VALUES ($1, 'One', 'one', 'x') RETURNING id", [u]);
    for (let i = 0; i < 4; i++) await tx("UPDATE articles SET title = 'Take ' || $2 WHERE id = $1", [a, i]);
    await tx("INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, 'hello')", [a, u]);
  } finally {
    await app.end();
  }
  const admin = new pg.Client({ connectionString: db.url });
  admin.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
  await admin.connect();
  // The file's writes (the template's privilege entries, from migrations after 0089, left out).
  const { rows } = await admin.query<{ id: string; chain: number; seq: string }>("SELECT id::text, chain, seq FROM audit_log WHERE table_name <> 'pg_catalog' ORDER BY chain, seq");
  return { url: db.url, admin, entries: rows.map((r) => ({ id: r.id, chain: r.chain, seq: Number(r.seq) })) };
}

async function verify(url: string): Promise<AuditFinding[]> {
  const cluster = new Cluster({ url, max: 1, statementTimeoutMs: 0 });
  try {
    return (await verifyAuditLog(cluster)).findings;
  } finally {
    await cluster.close();
  }
}

/** The entries in the middle of the longest chain (tampering there has neighbours on both sides). */
function middle(entries: Entry[]): [Entry, Entry, Entry] {
  const chain = entries[0]!.chain;
  const mine = entries.filter((e) => e.chain === chain);
  assert.ok(mine.length >= 6, `one chain holds the file's writes: ${JSON.stringify(entries)}`);
  return [mine[2]!, mine[3]!, mine[4]!];
}

test('an untouched log verifies, through the CLI too (exit 0)', async () => {
  const { url, admin, entries } = await freshLog();
  await admin.end();
  assert.equal(entries.length, 7); // user, article, four updates, comment
  assert.deepEqual(await verify(url), []);
  const out = await run(process.execPath, ['bin/pgpress.js', 'audit', 'verify'], { env: { ...process.env, DATABASE_URL: url } });
  assert.match(out.stdout, /ok: every chain verifies/);
});

test('an edited entry is named', async () => {
  const { url, admin, entries } = await freshLog();
  const [, x] = middle(entries);
  await admin.query(`UPDATE audit_log SET new_row = jsonb_set(new_row, '{title}', '"Forged"') WHERE id = $1`, [x.id]);
  await admin.end();
  const findings = await verify(url);
  assert.deepEqual(findings.map((f) => [f.kind, f.id]), [['edited', x.id]], JSON.stringify(findings));
});

test('an entry edited and re-hashed is named (the next link no longer holds)', async () => {
  const { url, admin, entries } = await freshLog();
  const [, x] = middle(entries);
  await admin.query(`UPDATE audit_log SET actor_id = 99 WHERE id = $1`, [x.id]);
  await admin.query(
    `UPDATE audit_log SET hash = sha256(prev_hash || pgpress_audit_payload(id, occurred_at, txid, actor_id, db_role, actor_role,
       table_name, operation, row_id, row_key, changed_columns, old_row, new_row)) WHERE id = $1`, [x.id]);
  await admin.end();
  const findings = await verify(url);
  assert.ok(findings.some((f) => f.kind === 'edited' && f.id === x.id), JSON.stringify(findings));
  assert.ok(findings.every((f) => f.id === x.id || f.kind === 'edited'), JSON.stringify(findings));
});

test('a deleted entry is named by its position, before the entry that follows it', async () => {
  const { url, admin, entries } = await freshLog();
  const [, x, next] = middle(entries);
  await admin.query('DELETE FROM audit_log WHERE id = $1', [x.id]);
  await admin.end();
  const findings = await verify(url);
  assert.deepEqual(findings.map((f) => [f.kind, f.chain, f.seq, f.id]), [['deleted', x.chain, x.seq, next.id]], JSON.stringify(findings));
  assert.match(findings[0]!.message, new RegExp(`position ${x.seq} missing before id ${next.id}`));
});

test('deleting the newest entry of a chain is named (the head is further on)', async () => {
  const { url, admin, entries } = await freshLog();
  const last = entries.filter((e) => e.chain === entries[0]!.chain).at(-1)!;
  await admin.query('DELETE FROM audit_log WHERE id = $1', [last.id]);
  await admin.end();
  const findings = await verify(url);
  // The row the entry was about (the comment) is now a write without its entry, too.
  assert.deepEqual(findings.map((f) => [f.kind, f.chain, f.seq]), [['deleted', last.chain, last.seq], ['unaudited', undefined, undefined]], JSON.stringify(findings));
  assert.match(findings[1]!.message, /^comments: 1 row/);
});

test('inserted entries are named: outside any chain, and at a position already taken', async () => {
  const { url, admin, entries } = await freshLog();
  const [, x] = middle(entries);
  const { rows: [loose] } = await admin.query<{ id: string }>(
    `INSERT INTO audit_log (table_name, operation, row_id, row_key, new_row) VALUES ('users', 'INSERT', 42, '42', '{"id": 42}') RETURNING id::text`);
  const { rows: [copy] } = await admin.query<{ id: string }>(
    `INSERT INTO audit_log (occurred_at, actor_id, table_name, operation, row_id, row_key, old_row, new_row, txid, changed_columns, chain, seq, prev_hash, hash, db_role, actor_role)
     SELECT occurred_at, 7, table_name, operation, row_id, row_key, old_row, new_row, txid, changed_columns, chain, seq, prev_hash, hash, db_role, actor_role
       FROM audit_log WHERE id = $1 RETURNING id::text`, [x.id]);
  await admin.end();
  const findings = await verify(url);
  const named = findings.map((f) => [f.kind, f.id]);
  assert.deepEqual(named.sort(), [['inserted', copy!.id], ['inserted', loose!.id]].sort(), JSON.stringify(findings));
});

test('an entry inserted into the chain with positions renumbered and a valid hash is named', async () => {
  const { url, admin, entries } = await freshLog();
  const [before, x] = middle(entries);
  // A forger who shifts every later position and links the new entry to the one before it.
  await admin.query('UPDATE audit_log SET seq = seq + 1 WHERE chain = $1 AND seq >= $2', [x.chain, x.seq]);
  await admin.query('UPDATE pgpress_audit_chain SET seq = seq + 1 WHERE chain = $1', [x.chain]);
  const { rows: [forged] } = await admin.query<{ id: string }>(
    `INSERT INTO audit_log (table_name, operation, row_id, row_key, new_row, chain, seq, prev_hash, hash)
     SELECT 'users', 'DELETE', 1, '1', NULL, chain, $2, hash, '\\x00' FROM audit_log WHERE id = $1 RETURNING id::text`, [before.id, x.seq]);
  await admin.query(`UPDATE audit_log SET old_row = '{"id": 1}', hash = sha256(prev_hash || pgpress_audit_payload(id, occurred_at, txid, actor_id, db_role,
       actor_role, table_name, operation, row_id, row_key, changed_columns, '{"id": 1}', new_row)) WHERE id = $1`, [forged!.id]);
  await admin.end();
  const findings = await verify(url);
  assert.deepEqual(findings.map((f) => [f.kind, f.id]), [['inserted', forged!.id]], JSON.stringify(findings));
});

test('two entries swapped in the chain are named as reordered, and the CLI exits 2 with JSON naming them', async () => {
  const { url, admin, entries } = await freshLog();
  const [, x, y] = middle(entries);
  await admin.query('UPDATE audit_log SET seq = CASE WHEN id = $1 THEN $4::bigint ELSE $3::bigint END WHERE id IN ($1, $2)', [x.id, y.id, x.seq, y.seq]);
  await admin.end();
  const findings = await verify(url);
  assert.deepEqual(findings.map((f) => [f.kind, f.id, f.seq]), [['reordered', y.id, x.seq]], JSON.stringify(findings));
  assert.match(findings[0]!.message, new RegExp(`chained after id ${x.id}`));
  const cli = await run(process.execPath, ['bin/pgpress.js', 'audit', 'verify', '--json'], { env: { ...process.env, DATABASE_URL: url } })
    .then(() => ({ code: 0, stdout: '' }), (e: { code: number; stdout: string }) => e);
  assert.equal(cli.code, 2);
  const report = JSON.parse(cli.stdout) as { findings: AuditFinding[] };
  assert.deepEqual(report.findings.map((f) => [f.kind, f.id]), [['reordered', y.id]]);
});
