// Partition maintenance under live writes and deletes: article_events rows cascade away with
// their article and lose their user (SET NULL) while `maintain` moves their month out of the
// default partition, and late rows for that month keep arriving.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { maintainPartitions, type PartitionPolicy } from '../../src/ops/partitions/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { url } = await testDatabase();
const cluster = new Cluster({ url, max: 3 });
const clients = [0, 1, 2].map(() => new pg.Client({ connectionString: url }));
for (const x of clients) {
  x.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
  await x.connect();
}
const [c, deleter, lateWriter] = clients as [pg.Client, pg.Client, pg.Client];
after(async () => {
  for (const x of clients) await x.end();
  await cluster.close();
});

const policy: PartitionPolicy = {
  monthsAhead: 1, retentionMonths: { article_events: null, audit_log: null }, archive: false, batchRows: 200, lockTimeoutMs: 2000,
  now: new Date('2026-06-15T12:00:00Z'),
};
const MAY = ['2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z'];
const COLS = 'id, article_id, user_id, kind, read_ms, occurred_at';

test('maintenance moves a month out of the default partition while its rows are deleted, nulled and added', async () => {
  // 40 authors with 300 articles; 200 readers (deletable: they author nothing).
  await c.query(`INSERT INTO users (email, username, display_name)
    SELECT 'u' || g || '@x.io', 'user' || g, 'U' || g FROM generate_series(1, 240) g`);
  await c.query(`INSERT INTO articles (author_id, title, slug)
    SELECT (SELECT id FROM users WHERE username = 'user' || (1 + g % 40)), 'T' || g, 'a-' || g FROM generate_series(1, 300) g`);
  // 20,000 May events waiting in the default partition (no May partition exists yet).
  await c.query(`INSERT INTO article_events (article_id, user_id, kind, read_ms, occurred_at)
    SELECT a.id, CASE WHEN g % 4 = 0 THEN NULL ELSE r.id END, CASE WHEN g % 5 = 0 THEN 'read_time' ELSE 'view' END,
           CASE WHEN g % 5 = 0 THEN g END, $1::timestamptz + (g % 43000) * interval '1 minute'
    FROM generate_series(1, 20000) g
    JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM articles) a ON a.n = g % 300
    JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users WHERE id NOT IN (SELECT author_id FROM articles)) r ON r.n = g % 150`, [MAY[0]]);
  const waiting = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM article_events_default')).rows[0]!.n;
  assert.ok(waiting >= 19_000, `${waiting} rows waiting`);
  // The exact record: every row before the run, and every late row in the transaction that adds it.
  await c.query(`CREATE TABLE before_rows AS SELECT ${COLS} FROM article_events`);
  await c.query(`CREATE TABLE late_rows AS SELECT ${COLS} FROM article_events WHERE false`);

  let stop = false;
  let deletedArticles = 0;
  let deletedUsers = 0;
  let lateInserted = 0;
  // A deadlock with maintenance's final transaction (40P01) rolls the delete back; it is retried
  // like an application would.
  const retryable = (e: unknown): number => {
    if (['40P01', '23503'].includes((e as { code?: string }).code ?? '')) return 0;
    throw e;
  };
  const deletes = (async () => {
    while (!stop) {
      deletedArticles += await deleter.query('DELETE FROM articles WHERE id = (SELECT id FROM articles ORDER BY random() LIMIT 1)')
        .then((r) => r.rowCount ?? 0, retryable);
      deletedUsers += await deleter.query(`DELETE FROM users WHERE id = (SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM articles WHERE author_id = u.id)
        AND NOT EXISTS (SELECT 1 FROM comments WHERE author_id = u.id) ORDER BY random() LIMIT 1)`).then((r) => r.rowCount ?? 0, retryable);
    }
  })();
  const lates = (async () => {
    while (!stop) {
      lateInserted += await lateWriter.query(`WITH i AS (
            INSERT INTO article_events (article_id, user_id, kind, occurred_at)
            SELECT (SELECT id FROM articles ORDER BY random() LIMIT 1), (SELECT id FROM users ORDER BY random() LIMIT 1), 'like',
                   $1::timestamptz + random() * interval '30 days'
            FROM generate_series(1, 10) RETURNING ${COLS})
          INSERT INTO late_rows SELECT * FROM i`, [MAY[0]]).then((r) => r.rowCount ?? 0, retryable); // 23503: the article or user picked was just deleted
    }
  })();

  // A move whose locks are not granted within lock_timeout, or that loses a deadlock three times,
  // is deferred to the next run by design; on a starved machine (a full `npm test` beside other
  // work) that happened under this write load. Correctness is what is tested here: runs repeat,
  // with the writes going on, until one moves the month (five at most).
  let report;
  const deferrals: string[][] = [];
  try {
    for (let run = 0; run < 5; run++) {
      report = await maintainPartitions(cluster, policy);
      assert.ok(report.ran);
      const deferred = report.tables.find((t) => t.table === 'article_events')!.deferred;
      if (deferred.length === 0) break;
      deferrals.push(deferred);
    }
  } finally {
    stop = true;
    await Promise.all([deletes, lates]);
  }
  const events = report!.tables.find((t) => t.table === 'article_events')!;
  assert.deepEqual(events.deferred, [], `deferred in each of ${deferrals.length + 1} runs`);
  assert.ok(events.created.includes('2026-05-01'), `created ${events.created.join(', ')}`);
  assert.ok(deletedArticles >= 3 && deletedUsers >= 3 && lateInserted >= 20,
    `the writes ran alongside: ${deletedArticles} articles, ${deletedUsers} users deleted, ${lateInserted} late rows`);

  // What the database must hold for May: every row recorded, minus those of deleted articles,
  // with the user of a deleted user set to NULL — exactly, compared row for row.
  const expected = `SELECT e.id, e.article_id, CASE WHEN EXISTS (SELECT 1 FROM users WHERE id = e.user_id) THEN e.user_id END AS user_id,
      e.kind, e.read_ms, e.occurred_at
    FROM (SELECT * FROM before_rows UNION ALL SELECT * FROM late_rows) e
    WHERE EXISTS (SELECT 1 FROM articles WHERE id = e.article_id) AND e.occurred_at >= $1 AND e.occurred_at < $2`;
  const actual = `SELECT ${COLS} FROM article_events WHERE occurred_at >= $1 AND occurred_at < $2`;
  const diff = await c.query<{ side: string; n: number }>(
    `SELECT 'missing' AS side, count(*)::int AS n FROM (${expected} EXCEPT ALL ${actual}) x
     UNION ALL SELECT 'extra', count(*)::int FROM (${actual} EXCEPT ALL ${expected}) y`, MAY);
  assert.deepEqual(diff.rows, [{ side: 'missing', n: 0 }, { side: 'extra', n: 0 }]);
  // …and all of it in the May partition, none left in the default one.
  const where = await c.query<{ t: string; n: number }>(
    'SELECT tableoid::regclass::text AS t, count(*)::int AS n FROM article_events WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY 1', MAY);
  assert.deepEqual(where.rows.map((r) => r.t), ['article_events_p2026_05']);

  // The next run has nothing to do.
  const again = await maintainPartitions(cluster, policy);
  assert.ok(again.ran);
  for (const t of again.tables) assert.deepEqual([t.created, t.retired, t.movedFromDefault, t.deferred], [[], [], 0, []], t.table);
});

test('a move whose lock is not granted in time is deferred: its half-made tables dropped, its logging stopped; the next run does it', async () => {
  const holder = new pg.Client({ connectionString: url });
  holder.on('error', () => undefined);
  await holder.connect();
  const partitions = async (): Promise<string[]> => (await c.query<{ t: string }>(
    "SELECT relname AS t FROM pg_class WHERE relname ~ '^article_events_p2026_(09|10)$' ORDER BY 1")).rows.map((r) => r.t);
  try {
    await c.query("INSERT INTO article_events (article_id, kind, occurred_at) SELECT (SELECT min(id) FROM articles), 'view', '2026-09-10T00:00:00Z'");
    // A long reader of the default partition: the move's ACCESS EXCLUSIVE waits behind it.
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM article_events_default');
    const later = { ...policy, now: new Date('2026-09-15T00:00:00Z'), lockTimeoutMs: 300 };
    const report = await maintainPartitions(cluster, later);
    assert.ok(report.ran);
    const events = report.tables.find((t) => t.table === 'article_events')!;
    assert.deepEqual([events.created, events.deferred], [[], ['2026-09-01', '2026-10-01']]);
    // No half-made month table, and no more logging: the trigger on the default partition is
    // disabled (dropping it needs the lock the reader holds), the log empty and staying so.
    assert.deepEqual(await partitions(), []);
    const trigger = await c.query<{ e: string }>("SELECT tgenabled AS e FROM pg_trigger WHERE tgrelid = 'article_events_default'::regclass AND tgname = 'pgpress_partition_move'");
    assert.deepEqual(trigger.rows, [{ e: 'D' }]);
    await c.query("INSERT INTO article_events (article_id, kind, occurred_at) SELECT (SELECT min(id) FROM articles), 'view', '2026-09-11T00:00:00Z'");
    assert.equal((await c.query('SELECT count(*)::int AS n FROM pgpress_partition_move_log')).rows[0].n, 0);
    await holder.query('COMMIT');
    const again = await maintainPartitions(cluster, later);
    assert.ok(again.ran);
    assert.deepEqual(again.tables.find((t) => t.table === 'article_events')!.created, ['2026-09-01', '2026-10-01']);
    assert.deepEqual(await partitions(), ['article_events_p2026_09', 'article_events_p2026_10']);
    assert.equal((await c.query("SELECT count(*)::int AS n FROM article_events_p2026_09")).rows[0].n, 2);
    const left = await c.query("SELECT 1 FROM pg_trigger WHERE tgrelid = 'article_events_default'::regclass AND tgname = 'pgpress_partition_move'");
    assert.equal(left.rowCount, 0, 'the finished move dropped the trigger');
  } finally {
    await holder.end();
  }
});
