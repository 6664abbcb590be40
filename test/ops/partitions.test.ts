// Partition maintenance: months ahead, rows waiting in the default partition, retention,
// idempotence, the advisory lock and replicas.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { migrate } from '../../src/migrate/index.ts';
import { LOCK_KEYS } from '../../src/ops/lock.ts';
import { maintainPartitions, type PartitionPolicy } from '../../src/ops/partitions/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { startCluster } from '../harness/pgCluster.ts';

const { url } = await testDatabase();
const cluster = new Cluster({ url, max: 3 });
const c = new pg.Client({ connectionString: url });
c.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await c.connect();
after(async () => {
  await c.end();
  await cluster.close();
});

const NOW = new Date('2026-06-15T12:00:00Z');
const policy: PartitionPolicy = {
  monthsAhead: 2, retentionMonths: { article_events: 6, audit_log: null }, archive: false, batchRows: 7, lockTimeoutMs: 1000, now: NOW,
};
const partName = (m: string): string => `article_events_p${m.slice(0, 7).replace('-', '_')}`;

async function attached(): Promise<string[]> {
  const { rows } = await c.query<{ m: string }>("SELECT m::text FROM pgpress_partition_months('article_events') m");
  return rows.map((r) => r.m);
}

const { rows: [user] } = await c.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('p@x.io', 'parts', 'P') RETURNING id");
const { rows: [article] } = await c.query<{ id: string }>("INSERT INTO articles (author_id, title, slug) VALUES ($1, 'T', 't') RETURNING id", [user!.id]);

test('maintenance moves rows waiting in the default partition into new month partitions, in batches', async () => {
  // No partition exists yet: every row lands in the default partition. 30 rows in May, 20 in
  // June (current), 3 in a month past retention (purged), 1 on a UTC month boundary.
  const ins = "INSERT INTO article_events (article_id, kind, occurred_at) SELECT $1, 'view', $2::timestamptz + g * interval '1 minute' FROM generate_series(1, $3) g";
  await c.query(ins, [article!.id, '2026-05-03T00:00:00Z', 30]);
  await c.query(ins, [article!.id, '2026-06-01T00:00:00Z', 20]);
  await c.query(ins, [article!.id, '2025-01-10T00:00:00Z', 3]);
  await c.query("INSERT INTO article_events (article_id, kind, occurred_at) VALUES ($1, 'like', '2026-06-30T23:59:59.999999Z'), ($1, 'like', '2026-07-01T00:00:00Z')", [article!.id]);
  assert.equal((await c.query('SELECT 1 FROM article_events_default')).rowCount, 55);

  const report = await maintainPartitions(cluster, policy);
  assert.ok(report.ran);
  const events = report.tables.find((t) => t.table === 'article_events')!;
  assert.deepEqual(events.created, ['2026-05-01', '2026-06-01', '2026-07-01', '2026-08-01']);
  assert.equal(events.movedFromDefault, 52);
  assert.equal(events.purgedFromDefault, 3);
  assert.equal((await c.query('SELECT 1 FROM article_events_default')).rowCount, 0);
  const per = await c.query<{ t: string; n: number }>('SELECT tableoid::regclass::text AS t, count(*)::int AS n FROM article_events GROUP BY 1 ORDER BY 1');
  assert.deepEqual(per.rows, [
    { t: partName('2026-05-01'), n: 30 },
    { t: partName('2026-06-01'), n: 21 },
    { t: partName('2026-07-01'), n: 1 },
  ]);
  // The partition bounds are UTC months.
  const { rows: [b] } = await c.query<{ bound: string }>(`SELECT pg_get_expr(relpartbound, oid) AS bound FROM pg_class WHERE relname = $1`, [partName('2026-06-01')]);
  assert.match(b!.bound, /FROM \('2026-06-01 00:00:00\+00'\) TO \('2026-07-01 00:00:00\+00'\)/);
  // Indexes and foreign keys of the parent reach the attached partition.
  const idx = await c.query('SELECT 1 FROM pg_indexes WHERE tablename = $1', [partName('2026-06-01')]);
  assert.ok(idx.rowCount! >= 3);
});

test('a second run changes nothing', async () => {
  const before = await attached();
  const report = await maintainPartitions(cluster, policy);
  assert.ok(report.ran);
  for (const t of report.tables) {
    assert.deepEqual([t.created, t.retired, t.movedFromDefault], [[], [], 0], t.table);
  }
  assert.deepEqual(await attached(), before);
});

test('retention retires months past the policy (detach, then drop or archive)', async () => {
  const later = new Date('2026-12-05T00:00:00Z'); // keep 6 months: July … December
  const report = await maintainPartitions(cluster, { ...policy, now: later, archive: true });
  assert.ok(report.ran);
  const events = report.tables.find((t) => t.table === 'article_events')!;
  assert.deepEqual(events.retired, ['2026-05-01', '2026-06-01']);
  assert.equal((await attached())[0], '2026-07-01');
  assert.equal((await c.query('SELECT count(*)::int AS n FROM article_events')).rows[0].n, 1);
  // archive: the detached May partition is kept as a plain table with its rows.
  assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${partName('2026-05-01')}_archived`)).rows[0].n, 30);
});

test('a run skips while another holds the maintenance lock', async () => {
  const holder = new pg.Client({ connectionString: url });
  holder.on('error', () => undefined);
  await holder.connect();
  try {
    await holder.query('SELECT pg_advisory_lock($1)', [LOCK_KEYS.partitions.toString()]);
    assert.deepEqual(await maintainPartitions(cluster, policy), { ran: false, reason: 'locked' });
  } finally {
    await holder.end();
  }
  assert.ok((await maintainPartitions(cluster, policy)).ran);
});

test('maintenance is a no-op on a replica', async () => {
  const pgc = await startCluster({ replicas: 1 });
  try {
    await migrate({ url: pgc.primary.url, dir: 'migrations' });
    await pgc.waitForReplica(pgc.replicas[0]!);
    const onReplica = new Cluster({ url: pgc.replicas[0]!.url, max: 1 });
    try {
      assert.deepEqual(await maintainPartitions(onReplica, policy), { ran: false, reason: 'replica' });
    } finally {
      await onReplica.close();
    }
  } finally {
    await pgc.destroy();
  }
});
