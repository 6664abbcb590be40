// The scheduled jobs' effects on a real database: a table full of dead tuples is vacuumed, a
// bloated index is rebuilt smaller (measured by pgstattuple and by the estimate), dead backends'
// change counters are folded without changing any sum, views refresh only when something changed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql } from '../../src/db/sql.ts';
import { bloatMethod, indexBloat, matviewsJob, partitionsJob, reindexJob, sourceChangesJob, vacuumJob } from '../../src/ops/jobs/index.ts';
import { refreshMatview } from '../../src/ops/matviews.ts';
import { clusterFactory } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { url } = await testDatabase();
const cluster = clusterFactory(url)({ max: 2 });
const c = new pg.Client({ connectionString: url });
c.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await c.connect();
after(() => c.end());
const ctx = { cluster, lockTimeoutMs: 1000 };

async function one<T>(q: string, params: unknown[] = []): Promise<T> {
  return (await c.query(q, params)).rows[0] as T;
}

test('vacuum: a table with many dead tuples autovacuum has not reached is vacuumed and analyzed; a quiet one is left alone', async () => {
  await c.query('CREATE TABLE bulk (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false)');
  await c.query('CREATE TABLE quiet (id int PRIMARY KEY) WITH (autovacuum_enabled = false)');
  await c.query("INSERT INTO bulk SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g");
  await c.query('INSERT INTO quiet SELECT g FROM generate_series(1, 100) g');
  await c.query('VACUUM ANALYZE quiet');
  await c.query('DELETE FROM bulk WHERE id > 5000');
  await c.query('SELECT pg_stat_force_next_flush()');
  await c.query('SELECT 1'); // the flush happens at the end of the next transaction
  const before = await one<{ dead: number; vacuumed: Date | null }>("SELECT n_dead_tup::int AS dead, last_vacuum AS vacuumed FROM pg_stat_user_tables WHERE relname = 'bulk'");
  assert.ok(before.dead >= 15000, `dead tuples before: ${before.dead}`);
  assert.equal(before.vacuumed, null);

  const timeoutOf = async (): Promise<string> => (await cluster.query<{ t: string }>(sql('test.showTimeout', "SELECT current_setting('statement_timeout') AS t"), [], { lane: 'background' })).rows[0]!.t;
  const laneTimeout = await timeoutOf();
  const r = await vacuumJob({ minDead: 1000, deadPct: 10 }, 60_000).run(ctx);
  assert.equal(r.outcome, 'ok');
  // VACUUM ran without statement_timeout; the background lane's connection got its value back.
  assert.equal(await timeoutOf(), laneTimeout);
  const vacuumed = (r.changes.vacuumed as { table: string; dead: number }[]).map((v) => v.table);
  assert.ok(vacuumed.includes('public.bulk'), `vacuumed: ${vacuumed.join(', ')}`);
  assert.ok(!vacuumed.includes('public.quiet'));
  const afterRun = await one<{ dead: number; vacuumed: Date | null; analyzed: Date | null }>(
    "SELECT n_dead_tup::int AS dead, last_vacuum AS vacuumed, last_analyze AS analyzed FROM pg_stat_user_tables WHERE relname = 'bulk'");
  assert.equal(afterRun.dead, 0);
  assert.ok(afterRun.vacuumed !== null && afterRun.analyzed !== null);
  // Idempotent: nothing left past the thresholds, nothing done.
  const again = await vacuumJob({ minDead: 1000, deadPct: 10 }, 60_000).run(ctx);
  assert.ok(!(again.changes.vacuumed as { table: string }[]).some((v) => v.table === 'public.bulk'));
});

test('reindex: a bloated index is measured (pgstattuple and estimate) and rebuilt CONCURRENTLY, smaller', async () => {
  await c.query('CREATE TABLE sparse (id int NOT NULL, v int NOT NULL)');
  await c.query('INSERT INTO sparse SELECT g, g FROM generate_series(1, 200000) g');
  await c.query('CREATE INDEX sparse_v_idx ON sparse (v)');
  // Nine rows in ten deleted across every leaf page: after VACUUM the pages stay, 10 % full.
  await c.query('DELETE FROM sparse WHERE id % 10 <> 0');
  await c.query('VACUUM ANALYZE sparse');
  const bytesBefore = Number((await one<{ b: string }>("SELECT pg_relation_size('sparse_v_idx') AS b")).b);

  const estimated = (await indexBloat(cluster, 1_000_000, 'estimate')).find((b) => b.index === 'sparse_v_idx');
  assert.ok(estimated && estimated.bloatPct >= 70, `estimated bloat ${estimated?.bloatPct}`);
  assert.equal(await bloatMethod(cluster), 'pgstattuple'); // the tests run as a superuser
  const measured = (await indexBloat(cluster, 1_000_000, 'pgstattuple')).find((b) => b.index === 'sparse_v_idx');
  assert.ok(measured && measured.bloatPct >= 70, `measured bloat ${measured?.bloatPct}`);

  const r = await reindexJob({ bloatPct: 30, minBytes: 1_000_000 }, 60_000).run(ctx);
  assert.equal(r.outcome, 'ok');
  const rebuilt = (r.changes.rebuilt as { index: string; bytesBefore: number; bytesAfter: number }[]).find((x) => x.index === 'public.sparse_v_idx');
  assert.ok(rebuilt, `rebuilt: ${JSON.stringify(r.changes)}`);
  const bytesAfter = Number((await one<{ b: string }>("SELECT pg_relation_size('sparse_v_idx') AS b")).b);
  console.log(`sparse_v_idx: ${bytesBefore} bytes before, ${bytesAfter} after (measured bloat ${measured.bloatPct} %, estimated ${estimated.bloatPct} %)`);
  assert.ok(bytesAfter * 3 < bytesBefore, `${bytesAfter} after vs ${bytesBefore} before`);
  assert.equal(rebuilt.bytesAfter, bytesAfter);
  const valid = await one<{ ok: boolean }>("SELECT indisvalid AS ok FROM pg_index WHERE indexrelid = 'sparse_v_idx'::regclass");
  assert.equal(valid.ok, true);
  // Below the threshold now, by both measures: the next run rebuilds nothing.
  for (const m of ['estimate', 'pgstattuple'] as const) {
    const b = (await indexBloat(cluster, 0, m)).find((x) => x.index === 'sparse_v_idx');
    assert.ok(b && b.bloatPct < 30, `${m} after: ${b?.bloatPct}`);
  }
  const again = await reindexJob({ bloatPct: 30, minBytes: 0 }, 60_000).run(ctx);
  assert.ok(!(again.changes.rebuilt as { index: string }[]).some((x) => x.index === 'public.sparse_v_idx'));
});

test('source_changes: rows of exited backends are folded into pid 0, every sum kept, and a refresh still sees nothing new', async () => {
  for (let i = 0; i < 3; i++) {
    const w = new pg.Client({ connectionString: url });
    await w.connect();
    await w.query("INSERT INTO users (email, username, display_name) VALUES ($1, $2, 'W')", [`w${i}@x.io`, `writer${i}`]);
    await w.end();
  }
  await c.query("INSERT INTO users (email, username, display_name) VALUES ('live@x.io', 'live', 'L')");
  await refreshMatview(cluster, 'user_engagement', { force: true });
  const sums = async (): Promise<Record<string, string>> =>
    Object.fromEntries((await c.query<{ source: string; n: string }>('SELECT source, sum(changes)::text AS n FROM pgpress_source_changes GROUP BY source')).rows.map((r) => [r.source, r.n]));
  const deadRows = async (): Promise<number> =>
    (await one<{ n: number }>('SELECT count(*)::int AS n FROM pgpress_source_changes s WHERE pid <> 0 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = s.pid)')).n;
  const before = await sums();
  // Exited backends' rows disappear from pg_stat_activity within moments of their exit.
  for (let i = 0; i < 50 && (await deadRows()) < 3; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok((await deadRows()) >= 3);
  const livePid = (await one<{ pid: number }>('SELECT pg_backend_pid() AS pid')).pid;

  const r = await sourceChangesJob(60_000).run(ctx);
  assert.equal(r.outcome, 'ok');
  assert.ok((r.changes.foldedRows as number) >= 3);
  assert.equal(await deadRows(), 0);
  assert.deepEqual(await sums(), before, 'each source keeps its sum');
  assert.equal((await one<{ n: number }>("SELECT count(*)::int AS n FROM pgpress_source_changes WHERE pid = $1 AND source = 'users'", [livePid])).n, 1, 'a live backend keeps its row');
  assert.equal(await refreshMatview(cluster, 'user_engagement'), false, 'folding is no change to refresh for');
  const again = await sourceChangesJob(60_000).run(ctx);
  assert.equal(again.changes.foldedRows, 0);
});

test('matviews: the views refresh when their sources changed, and are skipped when nothing did', async () => {
  const first = await matviewsJob(3600, 60_000).run(ctx);
  assert.equal(first.outcome, 'ok');
  const second = await matviewsJob(3600, 60_000).run(ctx);
  assert.deepEqual(second.changes, { refreshed: [], skipped: ['article_analytics', 'user_engagement'] });
  await c.query("INSERT INTO users (email, username, display_name) VALUES ('m@x.io', 'mview', 'M')");
  const third = await matviewsJob(3600, 60_000).run(ctx);
  assert.deepEqual(third.changes, { refreshed: ['user_engagement'], skipped: ['article_analytics'] });
});

test('partitions: the job makes the months ahead and says so; a second run changes nothing', async () => {
  const m = { monthsAhead: 2, eventsRetentionMonths: 0, auditRetentionMonths: 0, archive: false, batchRows: 1000, lockTimeoutMs: 1000 };
  const r = await partitionsJob(m, 60_000).run(ctx);
  assert.equal(r.outcome, 'ok');
  const events = (r.changes.tables as { table: string; created: string[] }[]).find((t) => t.table === 'article_events')!;
  assert.ok(events.created.length >= 3, JSON.stringify(r.changes));
  const again = await partitionsJob(m, 60_000).run(ctx);
  assert.ok((again.changes.tables as { created: string[] }[]).every((t) => t.created.length === 0));
});
