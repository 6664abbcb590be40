// The critical lane has its own connections: with every default-lane connection busy and callers
// queued behind them, ping(), /readyz and critical-lane calls still answer within their bounds.
// (Were the critical lane to share the default lane's pool, each of them would wait for a sleeper.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../src/db/sql.ts';
import { testApp } from '../harness/testApp.ts';

const sleepQ = sql('test.critical.sleep', 'SELECT pg_sleep($1::float8) AS slept');
const pidQ = sql('test.critical.pid', 'SELECT pg_backend_pid() AS pid');

// ping()'s own bound: it waits at most 2 s for a critical connection (Cluster.ping).
const PING_BOUND_MS = 2_000;
// A critical call's deadline here; it is only reached if the lane has no free connection.
const CRITICAL_DEADLINE_MS = 1_000;
// The sleepers hold the default lane well past every bound above.
const HOLD_S = 6;

const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
};

test('a saturated default lane: ping, /readyz and critical-lane calls still answer within their bounds', async () => {
  const { app, store } = await testApp();
  const c = store.cluster;
  const max = c.lanes.default.stats().max;
  // Every default connection sleeps, and as many callers again wait in the default lane's queue
  // (below the load-shedding threshold, so /readyz is not shed).
  const holders = Array.from({ length: max * 2 }, () => c.query(sleepQ, [HOLD_S], { deadlineMs: HOLD_S * 1_000 + 5_000 }).catch((e: unknown) => e));
  const waitUntil = Date.now() + 5_000;
  while (c.lanes.default.stats().inUse < max || c.lanes.default.stats().waiting < max) {
    assert.ok(Date.now() < waitUntil, `the default lane did not saturate: ${JSON.stringify(c.lanes.default.stats())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const saturatedAt = Date.now();

  const ping = await timed(() => c.ping());
  assert.equal(ping.value, true, 'ping answers while the default lane is saturated');
  assert.ok(ping.ms <= PING_BOUND_MS, `ping took ${Math.round(ping.ms)}ms (bound ${PING_BOUND_MS}ms)`);

  for (let i = 0; i < 3; i++) {
    const critical = await timed(() => c.query<{ pid: number }>(pidQ, [], { lane: 'critical', deadlineMs: CRITICAL_DEADLINE_MS }));
    assert.ok(critical.value.rows[0]!.pid > 0);
    assert.ok(critical.ms <= CRITICAL_DEADLINE_MS, `a critical call took ${Math.round(critical.ms)}ms (deadline ${CRITICAL_DEADLINE_MS}ms)`);
  }

  const ready = await timed(() => app.inject({ method: 'GET', url: '/readyz' }));
  assert.equal(ready.value.statusCode, 200, `/readyz answers ready: ${ready.value.body}`);
  assert.ok(ready.ms <= PING_BOUND_MS, `/readyz took ${Math.round(ready.ms)}ms (bound ${PING_BOUND_MS}ms)`);

  // All of that happened while the default lane was still saturated.
  assert.ok(Date.now() - saturatedAt < HOLD_S * 1_000, 'the checks ran while the sleepers held the default lane');
  const stats = c.lanes.default.stats();
  assert.equal(stats.inUse, max, `the default lane was still saturated: ${JSON.stringify(stats)}`);
  await Promise.all(holders);
});
