// Application metrics move with what happens: requests in flight, 504s, database deadlines, pool use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { sql } from '../../src/db/sql.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { clusterFactory, code } from '../harness/testCluster.ts';
import { testApp } from '../harness/testApp.ts';
import { testDatabase } from '../harness/testDatabase.ts';

/** The value of one sample line (name with its labels exactly as served), or 0 when absent. */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

test('requests in flight are counted while they run, and a request past its budget counts as a 504', async () => {
  const { app } = await testApp({ requestBudgetMs: 200 });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  app.get('/test/held', async () => {
    await held;
    return { ok: true };
  });
  const scrape = async (): Promise<string> => (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const before = await scrape();
  const running = Promise.all([1, 2, 3].map(() => app.inject({ method: 'GET', url: '/test/held' })));
  await new Promise((r) => setTimeout(r, 50));
  const during = await scrape();
  // The three held requests and the scrape itself.
  assert.equal(value(during, 'pgpress_http_requests_in_flight'), value(before, 'pgpress_http_requests_in_flight') + 3);
  const answers = await running;
  assert.deepEqual(answers.map((a) => a.statusCode), [504, 504, 504]);
  release();
  const after = await scrape();
  assert.equal(value(after, 'pgpress_http_deadline_exceeded_total'), value(before, 'pgpress_http_deadline_exceeded_total') + 3);
  assert.equal(value(after, 'pgpress_http_request_duration_seconds_count{method="GET",route="/test/held",status_class="5xx"}'), 3);
});

test('a database call past its deadline counts in pgpress_db_deadline_exceeded_total; pool utilisation follows connections in use', async () => {
  const { url } = await testDatabase();
  const reg = new Registry();
  const cluster = clusterFactory(url)({ max: 2, metrics: createDbMetrics(reg) });
  await assert.rejects(cluster.query(sql('test.sleep', 'SELECT pg_sleep(2)'), [], { read: true, deadlineMs: 150 }), (e) => code(e) === 'PGP_DEADLINE_EXCEEDED');
  assert.equal(value(await reg.metrics(), 'pgpress_db_deadline_exceeded_total{target="primary"}'), 1);
  // One of the default lane's two connections held: utilisation 0.5.
  const holding = cluster.tx(async (q) => {
    await q.query(sql('test.hold', 'SELECT pg_sleep(0.5)'));
  });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(value(await reg.metrics(), 'pgpress_db_pool_utilisation_ratio{target="primary",lane="default"}'), 0.5);
  await holding;
  assert.equal(value(await reg.metrics(), 'pgpress_db_pool_utilisation_ratio{target="primary",lane="default"}'), 0);
});
