// The attach is short: moving a month out of the default partition holds ACCESS EXCLUSIVE on it
// for a time that does not grow with the month's size. Measured from outside, by a session that
// reads the default partition in a loop: its slowest read is how long the strong lock was held.
// PGPRESS_ATTACH_BIG_ROWS sets the big month (default 150,000 rows; docs/schema.md figures use 500,000).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { maintainPartitions } from '../../src/ops/partitions/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { url } = await testDatabase();
const cluster = new Cluster({ url, max: 3 });
const c = new pg.Client({ connectionString: url });
const probe = new pg.Client({ connectionString: url });
for (const x of [c, probe]) {
  x.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
  await x.connect();
}
after(async () => {
  await c.end();
  await probe.end();
  await cluster.close();
});

const SMALL = 10_000;
const BIG = Number(process.env.PGPRESS_ATTACH_BIG_ROWS ?? 150_000);

const { rows: [user] } = await c.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('a@x.io', 'attach', 'A') RETURNING id");
const { rows: [article] } = await c.query<{ id: string }>("INSERT INTO articles (author_id, title, slug) VALUES ($1, 'T', 't') RETURNING id", [user!.id]);

/** Fills the default partition with `rows` events of `month`, maintains, and returns the slowest probe read (ms). */
async function measure(month: string, rows: number): Promise<{ probeMaxMs: number; lockHeldMs: number | undefined }> {
  await c.query(`INSERT INTO article_events (article_id, user_id, kind, occurred_at)
    SELECT $1, CASE WHEN g % 2 = 0 THEN $2::bigint END, 'view', $3::timestamptz + (g % 40000) * interval '1 minute'
    FROM generate_series(1, $4) g`, [article!.id, user!.id, `${month}T00:00:00Z`, rows]);
  await c.query('VACUUM ANALYZE article_events_default');
  let done = false;
  let probeMaxMs = 0;
  const probing = (async () => {
    while (!done) {
      const t = performance.now();
      await probe.query('SELECT 1 FROM article_events_default LIMIT 0');
      probeMaxMs = Math.max(probeMaxMs, performance.now() - t);
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  try {
    const now = new Date(`${month}T12:00:00Z`);
    const report = await maintainPartitions(cluster, {
      monthsAhead: 0, retentionMonths: { article_events: null, audit_log: null }, archive: false, batchRows: 10_000, lockTimeoutMs: 5000, now,
    });
    assert.ok(report.ran);
    const events = report.tables.find((t) => t.table === 'article_events')!;
    assert.deepEqual([events.created, events.movedFromDefault], [[month], rows]);
    return { probeMaxMs, lockHeldMs: (events as { lockHeldMs?: number }).lockHeldMs };
  } finally {
    done = true;
    await probing;
  }
}

test('the ACCESS EXCLUSIVE hold of an attach does not grow with the month it moves', async () => {
  const small = await measure('2026-03-01', SMALL);
  const big = await measure('2026-04-01', BIG);
  const left = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM article_events_default');
  assert.equal(left.rows[0]!.n, 0);
  console.log(`attach lock hold (slowest read of the default partition meanwhile / held as timed by maintenance): `
    + `${SMALL} rows ${small.probeMaxMs.toFixed(1)} / ${small.lockHeldMs?.toFixed(1)} ms; ${BIG} rows ${big.probeMaxMs.toFixed(1)} / ${big.lockHeldMs?.toFixed(1)} ms`);
  // A fixed slack of 100 ms absorbs a loaded two-core machine's scheduling; a hold that grew
  // with the rows (15× here) would be far past it.
  assert.ok(big.probeMaxMs < 3 * small.probeMaxMs + 100, `hold ${big.probeMaxMs.toFixed(1)} ms for ${BIG} rows vs ${small.probeMaxMs.toFixed(1)} ms for ${SMALL}`);
});
