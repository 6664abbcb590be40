// Maintenance, the events migration and seeding run on the background lane, through its permits
// and queue: with that lane saturated they wait their turn (and time out), they do not take a
// connection of the default lane that serves requests.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../../src/db/cluster.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { migrateEventsTable } from '../../src/ops/eventsMigration.ts';
import { runMaintenance } from '../../src/ops/maintenance.ts';
import { maintainPartitions, type PartitionPolicy } from '../../src/ops/partitions/index.ts';
import { seed } from '../../src/ops/seed/seed.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { url } = await testDatabase();
const cluster = new Cluster({ url, max: 4, lanes: { background: { max: 1, acquireTimeoutMs: 300 } } });
after(() => cluster.close());

const policy: PartitionPolicy = {
  monthsAhead: 1, retentionMonths: { article_events: null, audit_log: null }, archive: false, batchRows: 100, lockTimeoutMs: 1000,
  now: new Date('2026-06-15T12:00:00Z'),
};
const poolTimeout = (e: unknown): boolean => isPgpressError(e) && e.code === 'PGP_POOL_TIMEOUT';

test('with the background lane saturated, maintenance, the events migration and seeding wait for it, not for the default lane', async () => {
  const held = await cluster.lanes.background.acquire(Date.now() + 60_000);
  try {
    await assert.rejects(maintainPartitions(cluster, policy), poolTimeout);
    await assert.rejects(migrateEventsTable(cluster, { source: 'legacy_events' }), poolTimeout);
    await assert.rejects(seed(cluster, { scale: 1 }), poolTimeout);
  } finally {
    held.release();
  }
  // Its turn comes when the lane frees up; the default lane was never used.
  const report = await maintainPartitions(cluster, policy);
  assert.ok(report.ran);
  assert.equal(cluster.lanes.default.stats().total, 0);
});

test('a maintenance pass refreshes the views on the background lane too', async () => {
  const lines = await runMaintenance(cluster, {
    monthsAhead: 1, eventsRetentionMonths: 0, auditRetentionMonths: 0, archive: false, batchRows: 100, lockTimeoutMs: 1000,
  } as Parameters<typeof runMaintenance>[1]);
  assert.ok(lines.some((l) => l.startsWith('article_analytics:')), lines.join('\n'));
  assert.equal(cluster.lanes.default.stats().total, 0, 'no connection of the default lane was opened');
});
