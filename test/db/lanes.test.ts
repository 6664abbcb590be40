// Lanes: bounded FIFO waiting with deadlines, isolation between lanes, lifetimes, leak detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LeakReport } from '../../src/db/lane.ts';
import { sql } from '../../src/db/sql.ts';
import { clusterFactory, code } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase();
const sleepQ = sql('test.sleep', 'SELECT pg_sleep($1::float8) AS slept');
const pidQ = sql('test.pid', 'SELECT pg_backend_pid() AS pid');
const activeSleeps = sql('test.activeSleeps', "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()");

const cluster = clusterFactory(db.url);

const settle = <T>(p: Promise<T>): Promise<{ ok: true; value: T; at: number } | { ok: false; error: unknown; at: number }> =>
  p.then(
    (value) => ({ ok: true as const, value, at: performance.now() }),
    (error: unknown) => ({ ok: false as const, error, at: performance.now() }),
  );

test('an exhausted lane fails fast: waiters get PGP_POOL_TIMEOUT at their deadline, callers past the queue bound at once', async () => {
  const c = cluster({ lanes: { default: { max: 2, queueMax: 2 } } });
  const holders = [settle(c.query(sleepQ, [1])), settle(c.query(sleepQ, [1]))];
  await new Promise((r) => setTimeout(r, 100)); // both connections busy
  const waiters = [settle(c.query(pidQ, [], { deadlineMs: 300 })), settle(c.query(pidQ, [], { deadlineMs: 300 }))];
  const beyond = await settle(c.query(pidQ, [], { deadlineMs: 300 }));
  assert.equal(beyond.ok, false);
  assert.equal(code(!beyond.ok && beyond.error), 'PGP_POOL_TIMEOUT');
  const w = await Promise.all(waiters);
  const h = await Promise.all(holders);
  for (const r of w) {
    assert.equal(r.ok, false);
    assert.equal(code(!r.ok && r.error), 'PGP_POOL_TIMEOUT');
    assert.ok(r.at < h[0]!.at && r.at < h[1]!.at, 'waiters failed before the busy connections came back');
    assert.ok(beyond.at < r.at, 'the caller past the queue bound failed before the queued ones');
  }
  assert.ok(h.every((r) => r.ok));
  assert.deepEqual(c.lanes.default.stats().waiting, 0);
});

test('waiting is first come, first served', async () => {
  const c = cluster({ lanes: { default: { max: 1 } } });
  const order: number[] = [];
  const holder = c.query(sleepQ, [0.2]);
  await new Promise((r) => setTimeout(r, 50));
  const waiters = [1, 2, 3, 4].map((i) => c.query(pidQ).then(() => order.push(i)));
  await Promise.all([holder, ...waiters]);
  assert.deepEqual(order, [1, 2, 3, 4]);
});

test('a saturated background lane does not hold up the critical or default lanes', async () => {
  const c = cluster({ lanes: { background: { max: 2, queueMax: 10 } } });
  const bulk = Array.from({ length: 6 }, () => settle(c.query(sleepQ, [1], { lane: 'background' })));
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 5; i++) {
    await c.query(pidQ, [], { lane: 'critical', deadlineMs: 2_000 });
    await c.query(pidQ, [], { lane: 'default', deadlineMs: 2_000 });
    // Still saturated when the critical and default queries came back.
    const bg = c.lanes.background.stats();
    assert.equal(bg.inUse, 2);
    assert.ok(bg.waiting >= 1, `background still has waiters (${bg.waiting})`);
  }
  const done = await Promise.all(bulk);
  assert.ok(done.every((r) => r.ok), 'background work finished too, only later');
});

test('the caller deadline also stops the statement on the server', async () => {
  const c = cluster();
  const t0 = performance.now();
  await assert.rejects(c.query(sleepQ, [5], { deadlineMs: 300 }), (e: unknown) => code(e) === 'PGP_DEADLINE_EXCEEDED' || code(e) === 'PGP_OUTCOME_UNKNOWN');
  assert.ok(performance.now() - t0 < 2_000, 'the caller got its answer near the deadline');
  // A read with a deadline: the statement is cancelled on the server.
  await assert.rejects(c.query(sleepQ, [5], { deadlineMs: 300, read: true }), (e: unknown) => code(e) === 'PGP_DEADLINE_EXCEEDED');
  const watcher = cluster();
  let n = 1;
  for (let i = 0; i < 40 && n > 0; i++) {
    n = (await watcher.query<{ n: number }>(activeSleeps)).rows[0]!.n;
    if (n > 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(n, 0, 'no pg_sleep(5) is left running on the server');
  // Within the deadline, transactions run with a matching statement_timeout.
  const { value } = await c.tx(async (q) => (await q.query<{ t: string }>(sql('test.showTimeout', 'SELECT current_setting($1) AS t'), ['statement_timeout'])).rows[0]!.t, { deadlineMs: 1_500 });
  assert.match(value, /^1\d{3}ms$|^1s$|^\d{3}ms$/);
});

test('connections are recycled after their lifetime, each with its own jitter', async () => {
  const c = cluster({ lanes: { default: { max: 1, maxLifetimeMs: 150, lifetimeJitter: 0.5 } } });
  const first = (await c.query<{ pid: number }>(pidQ)).rows[0]!.pid;
  assert.equal((await c.query<{ pid: number }>(pidQ)).rows[0]!.pid, first, 'reused while young');
  await new Promise((r) => setTimeout(r, 200));
  await c.query(pidQ); // released past its lifetime: closed on release
  const later = (await c.query<{ pid: number }>(pidQ)).rows[0]!.pid;
  assert.notEqual(later, first);
  const forever = cluster({ lanes: { default: { max: 1, maxLifetimeMs: 0 } } });
  const p = (await forever.query<{ pid: number }>(pidQ)).rows[0]!.pid;
  await new Promise((r) => setTimeout(r, 200));
  await forever.query(pidQ);
  assert.equal((await forever.query<{ pid: number }>(pidQ)).rows[0]!.pid, p);
});

test('a connection held past the leak threshold is reported with the stack that took it', async () => {
  const leaks: LeakReport[] = [];
  const c = cluster({ leakThresholdMs: 100, leakStackEvery: 1, onLeak: (r) => leaks.push(r) });
  await c.tx(async function holdsTooLong(q) {
    await q.query(sleepQ, [0.4]);
  });
  assert.equal(leaks.length, 1);
  assert.equal(leaks[0]!.lane, 'default');
  assert.ok(leaks[0]!.heldMs >= 100);
  assert.match(leaks[0]!.stack ?? '', /lanes\.test\.ts/);
  await c.query(sleepQ, [0.01]); // short holds are not reported
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(leaks.length, 1);
});

test('stacks are sampled until the first leak, then captured for every call', async () => {
  const leaks: LeakReport[] = [];
  const c = cluster({ leakThresholdMs: 100, leakStackEvery: 1_000, onLeak: (r) => leaks.push(r) });
  await c.query(sleepQ, [0]); // call 0: sampled
  await c.query(sleepQ, [0.3]); // call 1: not sampled, leaks
  assert.equal(leaks.length, 1);
  assert.equal(leaks[0]!.stack, undefined);
  await c.query(sleepQ, [0.3]); // after a leak every call is captured
  assert.equal(leaks.length, 2);
  assert.match(leaks[1]!.stack ?? '', /lanes\.test\.ts/);
});

test('acquire deadlines are per waiter: an earlier deadline queued behind a later one fails at its own, and its write is never sent', async () => {
  const c = cluster({ lanes: { default: { max: 1 } } });
  await c.query(sql('test.laneW.create', 'CREATE TABLE IF NOT EXISTS lane_w (id int)'));
  const holder = settle(c.query(sleepQ, [0.8]));
  await new Promise((r) => setTimeout(r, 50)); // the only connection is busy
  const patient = settle(c.query(pidQ, [], { deadlineMs: 3_000 })); // arms the lane's wait timer far out
  const t0 = performance.now();
  const hurried = await settle(c.query(sql('test.laneW.insert', 'INSERT INTO lane_w VALUES (1)'), [], { deadlineMs: 200 }));
  assert.equal(hurried.ok, false);
  assert.equal(code(!hurried.ok && hurried.error), 'PGP_POOL_TIMEOUT');
  const waited = hurried.at - t0;
  assert.ok(waited < 600, `the hurried waiter failed at its own deadline (200 ms), not when the holder freed the connection (${Math.round(waited)} ms)`);
  assert.ok((await patient).ok && (await holder).ok);
  assert.equal((await c.query<{ n: number }>(sql('test.laneW.count', 'SELECT count(*)::int AS n FROM lane_w'))).rows[0]!.n, 0, 'the write was never sent');
});

test('a waiter whose deadline passed before a connection came free is not handed it', async () => {
  const c = cluster({ lanes: { default: { max: 1 } } });
  const lane = c.lanes.default;
  const first = await lane.acquire(Date.now() + 5_000);
  const late = settle(lane.acquire(Date.now() + 30));
  const next = settle(lane.acquire(Date.now() + 5_000));
  // The release runs in a timer callback that keeps the event loop busy past the waiter's
  // deadline: its wait timer has had no chance to fire when the connection comes free.
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      const until = Date.now() + 80;
      while (Date.now() < until) {
        // busy: the late waiter's deadline passes
      }
      first.release();
      resolve();
    }, 5),
  );
  const l = await late;
  if (l.ok) l.value.release();
  assert.equal(l.ok, false, 'the late waiter was not handed the connection');
  assert.equal(code(!l.ok && l.error), 'PGP_POOL_TIMEOUT');
  const n = await next;
  assert.ok(n.ok, 'the connection went to the next waiter');
  if (n.ok) n.value.release();
});
