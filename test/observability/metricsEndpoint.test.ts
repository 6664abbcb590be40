// GET /metrics: the families a scraper expects, route templates (never raw URLs) as labels, the
// optional bearer token and own port, and a scrape storm that costs one round of collector reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Queryable } from '../../src/db/queryable.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { createDbCollectorRegistry } from '../../src/observability/collectors/registry.ts';
import { freePort } from '../harness/freePort.ts';
import { testApp } from '../harness/testApp.ts';

/** Families every scrape of a served app lists (the database ones come from its collectors). */
const EXPECTED = [
  'pgpress_http_request_duration_seconds', 'pgpress_http_requests_in_flight', 'pgpress_http_shed_total', 'pgpress_http_rate_limited_total',
  'pgpress_http_deadline_exceeded_total', 'pgpress_db_connections', 'pgpress_db_pool_utilisation_ratio', 'pgpress_db_acquire_seconds',
  'pgpress_db_retries_total', 'pgpress_db_breaker_state', 'pgpress_db_outcome_unknown_total', 'pgpress_db_deadline_exceeded_total',
  'pgpress_process_cpu_seconds_total', 'pgpress_process_resident_memory_bytes', 'pgpress_nodejs_eventloop_lag_p99_seconds',
  'pgpress_pg_transactions_total', 'pgpress_pg_blocks_total', 'pgpress_pg_buffer_hit_ratio', 'pgpress_pg_deadlocks_total', 'pgpress_pg_temp_bytes_total',
  'pgpress_pg_connections', 'pgpress_pg_locks_waiting', 'pgpress_pg_oldest_transaction_age_seconds', 'pgpress_pg_table_dead_tuples',
  'pgpress_pg_table_last_maintenance_timestamp_seconds', 'pgpress_pg_index_scans_total', 'pgpress_pg_replicas_connected', 'pgpress_pg_wal_bytes_total',
  'pgpress_matview_pending_changes', 'pgpress_partitions_ahead', 'pgpress_partition_default_rows', 'pgpress_audit_missing_rows', 'pgpress_collector_up',
];

/** Family names declared (# TYPE) in a text exposition. */
function families(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

test('GET /metrics lists the application, process and database families in Prometheus text format', async () => {
  const { app } = await testApp();
  assert.equal((await app.inject({ method: 'GET', url: '/v1/articles/987654' })).statusCode, 404);
  assert.equal((await app.inject({ method: 'GET', url: '/no/such/path' })).statusCode, 404);
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const present = families(res.body);
  assert.deepEqual(EXPECTED.filter((f) => !present.has(f)), [], 'families missing');
  // Database families carry samples (a failed collector would leave them empty).
  for (const f of ['pgpress_pg_transactions_total', 'pgpress_pg_connections', 'pgpress_pg_wal_bytes_total', 'pgpress_partitions_ahead', 'pgpress_audit_missing_rows', 'pgpress_matview_pending_changes']) {
    assert.ok(new RegExp(`^${f}(\\{[^}]*\\})? \\d`, 'm').test(res.body), `${f} has samples`);
  }
  // The route template, never the URL: one series per route, not one per id.
  assert.ok(/pgpress_http_request_duration_seconds_count\{method="GET",route="\/v1\/articles\/:id",status_class="4xx"\} [1-9]/.test(res.body), 'a series for the route template');
  assert.ok(/pgpress_http_request_duration_seconds_count\{method="GET",route="unmatched",status_class="4xx"\} [1-9]/.test(res.body), 'requests without a route share one series');
  assert.ok(!/987654|no\/such/.test(res.body), 'no URL in a label');
  assert.ok(/pgpress_collector_up\{collector="tables"\} 1/.test(res.body), 'tables collector up');
  assert.ok(/pgpress_pg_table_dead_tuples\{table="articles"\}/.test(res.body), 'dead tuples of articles');
});

test('METRICS_TOKEN: /metrics answers 401 without the bearer token and 200 with it', async () => {
  const token = 'scrape-token-0123456789';
  const { app } = await testApp({ metrics: { token } });
  const none = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(none.statusCode, 401);
  assert.match(String(none.headers['www-authenticate']), /^Bearer/);
  assert.equal(none.json().code, 'PGP_UNAUTHORIZED');
  assert.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode, 401);
  const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.statusCode, 200);
  assert.match(ok.body, /pgpress_http_requests_in_flight/);
});

test('METRICS_PORT: /metrics is served on its own port only, and stops with the app', async () => {
  const port = await freePort();
  const { app } = await testApp({ metrics: { port, host: '127.0.0.1' } });
  await app.ready();
  assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /pgpress_pg_transactions_total\{result="commit"\}/);
});

test('100 concurrent scrapes cost one round of collector statements, not 100', async () => {
  const { store } = await testApp();
  let statements = 0;
  const lanes = new Set<string | undefined>();
  const counting: Queryable = {
    query: (q, params, o) => {
      statements++;
      lanes.add(o?.lane);
      return store.cluster.query(q, params, o);
    },
  };
  const { registry, cache } = createDbCollectorRegistry(counting, { cacheMs: 10_000, statementsTopK: 20, warn: () => undefined });
  // One scrape alone: the statements one round of every collector takes.
  await registry.metrics();
  const perRound = statements;
  assert.ok(perRound >= cache.collectors.length && perRound <= 20, `${perRound} statements in one round`);
  // Expire the cache, then a storm: the stale collectors run once, shared by every scrape.
  const storm = createDbCollectorRegistry(counting, { cacheMs: 10_000, statementsTopK: 20, warn: () => undefined });
  statements = 0;
  const bodies = await Promise.all(Array.from({ length: 100 }, () => storm.registry.metrics()));
  assert.ok(statements <= perRound, `100 concurrent scrapes ran ${statements} statements (one round: ${perRound})`);
  assert.ok(bodies.every((b) => b.includes('pgpress_pg_transactions_total')));
  // Cached: more scrapes within the cache time run nothing.
  statements = 0;
  await Promise.all(Array.from({ length: 100 }, () => storm.registry.metrics()));
  assert.equal(statements, 0);
  assert.deepEqual([...lanes], ['background'], 'collectors read on the background lane only');
});

test('METRICS_PORT already in use: start-up fails naming METRICS_PORT', async () => {
  const port = await freePort();
  const holder = createServer();
  await new Promise<void>((ok) => holder.listen(port, '127.0.0.1', ok));
  try {
    const { app } = await testApp({ metrics: { port, host: '127.0.0.1' } });
    await assert.rejects(Promise.resolve(app.ready()), (e: unknown) => isPgpressError(e) && e.code === 'PGP_CONFIG_INVALID' && /METRICS_PORT 127\.0\.0\.1:\d+ is in use/.test(e.message));
  } finally {
    await new Promise((ok) => holder.close(ok));
  }
});
