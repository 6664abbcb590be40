// The advisor on the main test server (no pg_stat_statements preloaded, no HypoPG created): the
// sections that need them say why they are absent; unused and redundant indexes never include an
// index that enforces something; plans of normalised statements on PostgreSQL 15; candidates
// without HypoPG are reported untested.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { tune } from '../../src/ops/tuning/advisor.ts';
import { genericPlan } from '../../src/ops/tuning/genericPlan.ts';
import { candidatesFor } from '../../src/ops/tuning/missingIndexes.ts';
import { seqScanTables } from '../../src/ops/tuning/seqScans.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase();
const c = new pg.Client({ connectionString: db.url });
await c.connect();
after(() => c.end());
// testDatabase's after() (registered first, so run first) drops the database WITH (FORCE), ending this session.
c.on('error', () => undefined);
const version = Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v);

let authors = false;
async function loadComments(n: number): Promise<void> {
  await c.query("SET session_replication_role = replica");
  if (!authors) await c.query(`INSERT INTO users (email, username, display_name) SELECT 'u' || g || '@example.com', 'user_' || g, 'U' FROM generate_series(1, 500) g`);
  if (!authors) await c.query(`INSERT INTO articles (author_id, title, slug) SELECT g, 'A', 'a-' || g FROM generate_series(1, 100) g`);
  authors = true;
  await c.query(`INSERT INTO comments (article_id, author_id, body) SELECT 1 + g % 100, 1 + (g * 7) % 500, 'c' FROM generate_series(1, $1::int) g`, [n]);
  await c.query('RESET session_replication_role');
}

test('without pg_stat_statements the statement and missing-index sections say why they are absent; the rest is there', async () => {
  const r = await tune({ url: db.url, machine: { memoryBytes: 8 * 1024 ** 3, cores: 4, disk: 'ssd' } });
  assert.equal(r.statements.available, false);
  assert.match(!r.statements.available ? r.statements.reason : '', /shared_preload_libraries/);
  assert.equal(r.missingIndexes.available, false);
  assert.match(!r.missingIndexes.available ? r.missingIndexes.reason : '', /top statements/);
  assert.deepEqual(r.settings.map((s) => s.name).sort(), ['effective_cache_size', 'maintenance_work_mem', 'max_parallel_workers', 'max_parallel_workers_per_gather', 'random_page_cost', 'shared_buffers', 'work_mem']);
  assert.deepEqual(r.migrationsWritten, []);
});

test('unused indexes: never a primary key, unique or constraint index; conclusive only past the window bound', async () => {
  await c.query('CREATE INDEX tune_unused_idx ON comments (updated_at)');
  const short = await tune({ url: db.url, minStatsWindowSeconds: 0 });
  const names = short.indexes.unused.map((u) => u.index);
  assert.ok(names.includes('tune_unused_idx'), names.join(', '));
  for (const enforcing of ['articles_pkey', 'articles_slug_key', 'comments_pkey', 'comments_article_id_key', 'users_email_key']) assert.ok(!names.includes(enforcing), enforcing);
  assert.equal(short.indexes.unused.find((u) => u.index === 'tune_unused_idx')!.sql, 'DROP INDEX CONCURRENTLY IF EXISTS tune_unused_idx');
  assert.ok(short.indexes.unused.every((u) => u.conclusive));
  const long = await tune({ url: db.url, minStatsWindowSeconds: 10 * 365 * 86_400 });
  assert.ok(long.indexes.unused.every((u) => !u.conclusive));
  // Scanned once, it is no longer unused.
  await c.query('SET enable_seqscan = off');
  await c.query('SELECT count(*) FROM comments WHERE updated_at > now()');
  // A session's statistics reach the shared counters when it goes idle, at most once a second (or
  // up to 10 s later) unless forced: force the flush of the scan's count.
  await c.query('SELECT pg_stat_force_next_flush()');
  await c.query('RESET enable_seqscan');
  for (let i = 0; i < 50; i++) {
    const again = await tune({ url: db.url, minStatsWindowSeconds: 0 });
    if (!again.indexes.unused.some((u) => u.index === 'tune_unused_idx')) return;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.fail('tune_unused_idx still reported unused after a scan');
});

test('redundant indexes: a leading-column prefix and an exact twin are reported once each; an enforcing index never is', async () => {
  await c.query('CREATE INDEX tune_author_only_idx ON comments (author_id)');
  await c.query('CREATE INDEX tune_author_twin_idx ON comments (author_id, created_at)');
  await c.query('CREATE INDEX tune_author_desc_idx ON comments (author_id DESC)');
  await c.query('CREATE UNIQUE INDEX tune_article_unique_idx ON comments (article_id, id, author_id)');
  const r = await tune({ url: db.url });
  const red = Object.fromEntries(r.indexes.redundant.map((x) => [x.index, x.coveredBy]));
  assert.ok(['comments_author_idx', 'tune_author_twin_idx'].includes(red.tune_author_only_idx!), JSON.stringify(red));
  // Twins: exactly one of the pair is reported, covered by the other.
  const twins = ['comments_author_idx', 'tune_author_twin_idx'].filter((n) => n in red);
  assert.equal(twins.length, 1, JSON.stringify(red));
  assert.equal(red[twins[0]!], twins[0] === 'comments_author_idx' ? 'tune_author_twin_idx' : 'comments_author_idx');
  // A different order is not a prefix; a unique index is never reported.
  assert.ok(!('tune_author_desc_idx' in red));
  assert.ok(!('tune_article_unique_idx' in red) && !('comments_article_id_key' in red));
  await c.query('DROP INDEX tune_author_only_idx, tune_author_twin_idx, tune_author_desc_idx, tune_article_unique_idx');
});

test('a normalised statement is planned generically without running it, and leaves nothing behind', async () => {
  const p = await genericPlan(c, 'SELECT id FROM comments WHERE author_id = $1 AND created_at > $2 ORDER BY created_at LIMIT $3', version);
  assert.ok(p.ok, !p.ok ? p.reason : '');
  assert.equal(p.method, version >= 160000 ? 'generic_plan' : 'prepared_generic');
  // A generic plan keeps the parameters: the NULLs given to EXECUTE were never folded into it.
  assert.match(JSON.stringify(p.plan), /\$1/);
  const utility = await genericPlan(c, 'VACUUM comments', version);
  assert.equal(utility.ok, false);
  const broken = await genericPlan(c, 'SELECT no_such_column FROM comments WHERE id = $1', version);
  assert.match(!broken.ok ? broken.reason : '', /cannot plan it: column "no_such_column" does not exist/);
  // A write is only planned: nothing is deleted.
  await loadComments(2_000);
  const del = await genericPlan(c, 'DELETE FROM comments WHERE author_id = $1', version);
  assert.ok(del.ok);
  assert.equal((await c.query('SELECT count(*)::int AS n FROM comments')).rows[0].n, 2_000);
  assert.equal((await c.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0].n, 0);
  assert.equal((await c.query("SELECT current_setting('transaction_read_only') AS ro")).rows[0].ro, 'off');
});

test('without HypoPG a selective sequential scan still gives a candidate, reported untested', async () => {
  await loadComments(20_000);
  await c.query('DROP INDEX comments_author_idx');
  await c.query('ANALYZE comments');
  const sql = 'SELECT id FROM comments WHERE author_id = $1 ORDER BY created_at DESC LIMIT 20';
  const p = await genericPlan(c, sql, version);
  assert.ok(p.ok);
  const [cand, ...rest] = await candidatesFor(c, { queryid: '1', query: sql }, p.plan, { minTableRows: 1_000, serverVersionNum: version, hypopg: { installed: false, reason: 'not here' } });
  assert.equal(rest.length, 0);
  assert.deepEqual(cand!.columns, ['author_id', 'created_at']);
  assert.deepEqual(cand!.hypothetical, { tested: false, reason: 'not here' });
  assert.equal(cand!.recommended, true);
  // A table under the bound gives none.
  assert.deepEqual(await candidatesFor(c, { queryid: '1', query: sql }, p.plan, { minTableRows: 1_000_000, serverVersionNum: version, hypopg: { installed: false, reason: 'x' } }), []);
  // Read by sequential scans (the statement run three times), comments is among the tables pg_stat_user_tables shows read that way.
  for (let i = 0; i < 3; i++) await c.query(sql.replace('$1', String(i + 1)));
  await c.query('SELECT pg_stat_force_next_flush()');
  let tables: Awaited<ReturnType<typeof seqScanTables>> = [];
  for (let i = 0; i < 50 && !tables.some((t) => t.table === 'comments'); i++) {
    await new Promise((ok) => setTimeout(ok, 100));
    tables = await seqScanTables(c, 1_000, 10);
  }
  const comments = tables.find((t) => t.table === 'comments');
  assert.ok(comments, JSON.stringify(tables));
  assert.ok(comments.seqScans >= 3 && comments.rowsPerSeqScan > 1_000, JSON.stringify(comments));
  assert.deepEqual(await seqScanTables(c, 1_000_000, 10), []);
});
