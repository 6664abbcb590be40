// Only the trigger path writes the audit log: the application role can neither change audit_log,
// the chain heads or the audit triggers, nor call the functions that append or remove entries
// (42501). Retention, by the owner, records what it removes and the chain links across it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { createMonthPartitions, monthOf } from '../../src/ops/partitions/index.ts';
import { verifyAuditLog, type AuditReport } from '../../src/security/auditVerify.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase();
const app = new pg.Client({ connectionString: db.appUrl });
const owner = new pg.Client({ connectionString: db.ownerUrl });
for (const c of [app, owner]) c.on('error', () => undefined); // the harness drops the database WITH (FORCE)
await app.connect();
await owner.connect();
after(async () => {
  await app.end();
  await owner.end();
});

async function write(n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    await app.query('INSERT INTO users (email, username, display_name) VALUES ($1, $2, $3)', [`${tag}${i}@example.org`, `${tag}_${i}`, tag]);
  }
}

async function verify(): Promise<AuditReport> {
  const cluster = new Cluster({ url: db.url, max: 1, statementTimeoutMs: 0 });
  try {
    return await verifyAuditLog(cluster);
  } finally {
    await cluster.close();
  }
}

test('the application role cannot change the audit log, its chain or its triggers (42501)', async () => {
  await write(2, 'priv');
  const denied = [
    "UPDATE audit_log SET actor_id = 1",
    'DELETE FROM audit_log',
    'TRUNCATE audit_log',
    'TRUNCATE audit_log_default',
    "INSERT INTO audit_log (table_name, operation, row_id, new_row) VALUES ('users', 'INSERT', 1, '{}')",
    'UPDATE pgpress_audit_chain SET seq = 0',
    'SELECT * FROM pgpress_audit_key',
    "SELECT pgpress_audit_append('users', 'INSERT', 1, '1', NULL, '{}', NULL)",
    "SELECT * FROM pgpress_audit_purge_default(now(), 10)",
    `SELECT pgpress_partition_retire('audit_log', '${monthOf(new Date())}', false)`,
    'ALTER TABLE users DISABLE TRIGGER users_audit',
    'DROP TRIGGER users_audit ON users',
    'SET session_replication_role = replica',
  ];
  for (const statement of denied) {
    await assert.rejects(app.query(statement), (e: { code?: string }) => e.code === '42501', statement);
  }
  // A forged chain hint costs a lookup, never a wrong link.
  await app.query('BEGIN');
  await app.query("SELECT set_config('pgpress.audit_chain', '3/(0,1)', true)");
  await write(2, 'hint');
  await app.query('COMMIT');
  assert.deepEqual((await verify()).findings, []);
});

test('privilege changes (GRANT, REVOKE) are audit entries, in the chain', async () => {
  await owner.query('GRANT UPDATE ON tags TO pgpress_readonly');
  await owner.query('REVOKE UPDATE ON tags FROM pgpress_readonly');
  const { rows } = await owner.query<{ operation: string; db_role: string; old_row: { state: string }; new_row: { state: string } }>(
    "SELECT operation, db_role, old_row, new_row FROM audit_log WHERE table_name = 'pg_catalog' AND row_key = 'table tags' ORDER BY id");
  assert.deepEqual(rows.map((r) => [r.operation, r.db_role]), [['GRANT', 'pgpress_owner'], ['REVOKE', 'pgpress_owner']]);
  assert.doesNotMatch(rows[0]!.old_row.state, /pgpress_readonly=rw/);
  assert.match(rows[0]!.new_row.state, /pgpress_readonly=rw\//);
  assert.equal(rows[1]!.new_row.state, rows[0]!.old_row.state);
  assert.deepEqual((await verify()).findings, []);
});

// A writer waiting for a chain head gives up after this long with a message, never hangs the file.
const LOCK_TIMEOUT_MS = 30_000;

async function connectApp(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.appUrl, options: `-c lock_timeout=${LOCK_TIMEOUT_MS}` });
  await c.connect();
  return c;
}

/** The head pgpress_audit_append (migration 0083) tries first for a backend, and waits on when all are held. */
async function firstHead(c: pg.Client): Promise<number> {
  const { rows: [me] } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const { rows } = await owner.query<{ chain: number }>('SELECT chain FROM pgpress_audit_chain ORDER BY hashint4(chain # $1::int) LIMIT 1', [me!.pid]);
  return rows[0]!.chain;
}

test('concurrent transactions each append to a chain of their own; more writers than chains wait, and every chain verifies', async () => {
  const clients = await Promise.all(Array.from({ length: 8 }, connectApp));
  // The ninth and tenth writers both wait for the same head (the harder case: the second waits on the
  // first's transaction once that head is free). Out of nine connections two share a first head.
  const spares: pg.Client[] = [];
  const byHead = new Map<number, pg.Client>();
  for (let mate: pg.Client | undefined; !mate;) {
    const c = await connectApp();
    spares.push(c);
    const head = await firstHead(c);
    mate = byHead.get(head);
    if (mate) clients.push(mate, c);
    else byHead.set(head, c);
  }
  await Promise.all(spares.filter((c) => !clients.includes(c)).map((c) => c.end()));
  try {
    for (const c of clients) await c.query('BEGIN');
    // Eight hold a chain each until they commit; the ninth and tenth wait for one.
    const first = (i: number): Promise<unknown> => clients[i]!.query('INSERT INTO users (email, username, display_name) VALUES ($1, $2, $3)', [`c${i}@example.org`, `conc_${i}`, 'C'])
      .catch((e: { code?: string; message: string }) => {
        throw e.code === '55P03' ? new Error(`writer ${i} waited over ${LOCK_TIMEOUT_MS} ms for an audit chain head: its holder never committed (${e.message})`) : e;
      });
    for (let i = 0; i < 8; i++) await first(i);
    // Each waiter commits as soon as it has written: the other may be waiting on its transaction.
    const waiting = [8, 9].map((i) => first(i).then(() => clients[i]!.query('COMMIT')));
    const state = await Promise.race([Promise.all(waiting).then(() => 'done'), new Promise((r) => setTimeout(r, 300, 'waiting'))]);
    assert.equal(state, 'waiting', 'all eight chains are held: the ninth and tenth writers wait');
    for (const [i, c] of clients.slice(0, 8).entries()) {
      await c.query('UPDATE users SET bio = $2 WHERE username = $1', [`conc_${i}`, 'second']);
      await c.query('COMMIT');
    }
    await Promise.all(waiting);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  // Each transaction's entries are neighbours in one chain.
  const { rows } = await owner.query<{ chains: number; n: number; spread: string }>(
    `SELECT count(DISTINCT chain)::int AS chains, count(*)::int AS n, (max(seq) - min(seq))::text AS spread
       FROM audit_log WHERE txid IN (SELECT txid FROM audit_log WHERE operation = 'UPDATE') GROUP BY txid`);
  assert.equal(rows.length, 8);
  for (const r of rows) assert.deepEqual([r.chains, r.n, r.spread], [1, 2, '1']);
  assert.deepEqual((await verify()).findings, []);
});

test('retention by the owner records what it removes (a whole month, stragglers), and the chain links across', async () => {
  const month = monthOf(new Date());
  await write(3, 'old');
  const ownerCluster = new Cluster({ url: db.ownerUrl, max: 2, statementTimeoutMs: 0 });
  try {
    assert.deepEqual(await createMonthPartitions(ownerCluster, 'audit_log', [month]), [month]);
  } finally {
    await ownerCluster.close();
  }
  const before = Number((await owner.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]!.n);
  assert.ok(before > 0);
  const { rows: [r] } = await owner.query<{ retired: boolean }>('SELECT pgpress_partition_retire($1, $2, false) AS retired', ['audit_log', month]);
  assert.equal(r!.retired, true);
  // Only the record of the removal is left (in the default partition: this month has none now).
  const { rows: left } = await owner.query<{ operation: string; new_row: { relation: string; chains: { count: number }[] } }>('SELECT operation, new_row FROM audit_log');
  assert.deepEqual(left.map((x) => [x.operation, x.new_row.relation]), [['RETIRE', `audit_log_p${month.slice(0, 7).replace('-', '_')}`]]);
  assert.equal(left[0]!.new_row.chains.reduce((s, c) => s + c.count, 0), before);
  await write(2, 'new');
  let report = await verify();
  assert.deepEqual(report.findings, []);
  assert.ok(report.removals.length > 0);

  // Stragglers in the default partition: the maintenance purge records them the same way.
  const { rows: purged } = await owner.query('SELECT * FROM pgpress_audit_purge_default(now() + interval \'1 day\', 3)');
  assert.equal(purged.length, 3);
  await write(1, 'later');
  report = await verify();
  assert.deepEqual(report.findings, []);

  // Deleting an entry without recording it is still a finding.
  await owner.query("DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log WHERE operation = 'INSERT')").catch(async () => {
    // The owner may not DELETE directly when its grants forbid it; the superuser can.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query("DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log WHERE operation = 'INSERT')");
    await admin.end();
  });
  assert.ok((await verify()).findings.some((f) => f.kind === 'deleted'));
});
