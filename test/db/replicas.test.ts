// Replicas on a real streaming cluster: read-your-writes tokens under paused replay, the lag bound,
// hysteresis on rejoin, and reads moving to the primary when a replica stops or freezes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import type { TargetHealth } from '../../src/db/health.ts';
import { newSession } from '../../src/db/session.ts';
import { sql } from '../../src/db/sql.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { withLoopDelay } from '../harness/loopDelay.ts';
import { startCluster, type PgReplica, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster;
let replica: PgReplica;
let c: Cluster;

const MAX_LAG_MS = 1_500;
const REJOIN_MS = 1_000;
const MONITOR_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 300;
/** The monitor opens a fresh probe connection every this many probes (ProbeClient's default). */
const PROBE_RECONNECT_EVERY = 10;
/** Each read of the failure tests carries this deadline: the code promises the read ends by then. */
const READ_DEADLINE_MS = 1_500;
/** After a deadline's timer fires: rejecting, releasing the connection, the test's bookkeeping. */
const AFTER_TIMER_MS = 250;
// Waits below (until(...)) are generous timeouts for a state to be reached, not speed assertions.

before(async () => {
  pgc = await startCluster({ replicas: 1 });
  replica = pgc.replicas[0]!;
  await pgc.primary.query('CREATE TABLE items (id int PRIMARY KEY)');
  await pgc.waitForReplica(replica);
  c = new Cluster({
    url: pgc.primary.url,
    replicaUrls: [replica.url],
    metrics: createDbMetrics(new Registry()),
    replicas: { maxLagMs: MAX_LAG_MS, rejoinAfterMs: REJOIN_MS, monitorIntervalMs: MONITOR_INTERVAL_MS, probeTimeoutMs: PROBE_TIMEOUT_MS, rywWaitMs: 300 },
  });
  await c.ready();
});

after(async () => {
  try {
    if (replica) replica.signalAll('SIGCONT');
  } catch {
    // not running
  }
  await c?.close();
  await pgc?.destroy();
});

const standby = sql('test.standby', 'SELECT pg_is_in_recovery() AS standby');
const insert = sql('test.insert', 'INSERT INTO items VALUES ($1)');
const countId = sql('test.countId', 'SELECT count(*)::int AS n FROM items WHERE id = $1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function onReplica(opts: { token?: string; deadlineMs?: number } = {}): Promise<boolean> {
  return (await c.query<{ standby: boolean }>(standby, [], { read: true, ...opts })).rows[0]!.standby;
}
async function replicaHealth(): Promise<TargetHealth> {
  return (await c.health()).find((t) => t.role === 'replica')!;
}
/** Polls until check passes (bounded); returns the replica states seen meanwhile. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<string[]> {
  const seen: string[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const h = await replicaHealth();
    if (seen.at(-1) !== h.state) seen.push(h.state);
    if (await check()) return seen;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; states seen: ${seen.join(' → ')}`);
    await sleep(50);
  }
}

test('reads without a token use a healthy replica; writes stay on the primary', async () => {
  assert.equal(await onReplica(), true);
  assert.equal((await c.query<{ standby: boolean }>(standby)).rows[0]!.standby, false, 'a query not marked read goes to the primary');
  const [h] = await c.health();
  assert.equal(h!.state, 'up');
  const r = await replicaHealth();
  assert.equal(r.state, 'healthy');
  assert.equal(r.inRotation, true);
  assert.equal(r.breaker, 'closed');
});

test('paused replay: a read carrying a fresh token never returns stale data; tokenless reads stay until the lag bound', async () => {
  await replica.pauseReplay();
  try {
    const { lsn } = await c.tx((q) => q.query(insert, [1]));
    const pausedAt = Date.now();
    // No token: the replica may answer (stale) while its lag is within the bound.
    assert.equal(await onReplica(), true);
    assert.equal((await c.query<{ n: number }>(countId, [1], { read: true })).rows[0]!.n, 0, 'the replica has not replayed the row');
    // With the token the read waits briefly, then asks the primary: never stale.
    assert.equal((await c.query<{ n: number }>(countId, [1], { read: true, token: lsn })).rows[0]!.n, 1);
    assert.equal(await onReplica({ token: lsn }), false);
    // The same through a session: the commit's LSN becomes the session's token.
    const session = newSession();
    await c.tx((q) => q.query(insert, [2]), { session });
    assert.ok(session.lastCommitLsn, 'the commit LSN is recorded in the session');
    assert.equal((await c.query<{ n: number }>(countId, [2], { read: true, session })).rows[0]!.n, 1);
    let lastOnReplica = 0;
    await until('the replica to leave the rotation for lag', async () => {
      if (await onReplica()) {
        lastOnReplica = Date.now();
        return false;
      }
      return true;
    });
    assert.ok(lastOnReplica >= pausedAt, 'tokenless reads used the lagging replica while within the bound');
    const h = await replicaHealth();
    assert.equal(h.state, 'lagging');
    assert.ok((h.lagMs ?? 0) > MAX_LAG_MS);
    assert.ok(Date.now() - pausedAt > MAX_LAG_MS, 'it left only once past the bound');
  } finally {
    await replica.resumeReplay();
  }
  // Caught up again, it comes back only after staying healthy for the rejoin period.
  const seen = await until('the replica to rejoin', () => onReplica());
  assert.ok(seen.includes('recovering'), `hysteresis: states seen ${seen.join(' → ')}`);
  assert.equal((await c.query<{ n: number }>(countId, [1], { read: true })).rows[0]!.n, 1);
});

interface Load {
  replica: number;
  primary: number;
  slowest: number;
  lastOnReplica: number;
  /** What the slowest read may take: its deadline, plus how late timers ran meanwhile, plus AFTER_TIMER_MS. */
  bound: number;
}

/** Reads from 4 callers for ms, each bounded by READ_DEADLINE_MS; how many ran where, the slowest, its bound. */
async function readLoad(ms: number): Promise<Load> {
  const out = { replica: 0, primary: 0, slowest: 0, lastOnReplica: 0 };
  const end = Date.now() + ms;
  const { maxDelayMs } = await withLoopDelay(() =>
    Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < end) {
          const t0 = Date.now();
          const on = await onReplica({ deadlineMs: READ_DEADLINE_MS });
          out.slowest = Math.max(out.slowest, Date.now() - t0);
          if (on) {
            out.replica++;
            out.lastOnReplica = Date.now();
          } else out.primary++;
        }
      }),
    ),
  );
  return { ...out, bound: Math.ceil(READ_DEADLINE_MS + maxDelayMs + AFTER_TIMER_MS) };
}

test('a stopped replica: reads move to the primary within a bound and none fails', async () => {
  await replica.stop('fast');
  const stoppedAt = Date.now();
  try {
    const load = await readLoad(2_000);
    assert.ok(load.primary > 0);
    assert.ok(load.slowest <= load.bound, `slowest read ${load.slowest}ms (bound ${load.bound}ms: deadline ${READ_DEADLINE_MS}ms + timer delay + ${AFTER_TIMER_MS}ms)`);
    // The server was down before the first read: none can have been answered there.
    assert.equal(load.replica, 0, `no read was answered by the stopped replica (last at +${load.lastOnReplica - stoppedAt}ms)`);
    const h = await replicaHealth();
    assert.equal(h.state, 'down');
    assert.equal(h.inRotation, false);
  } finally {
    await replica.start();
  }
  await until('the restarted replica to rejoin', () => onReplica(), 15_000);
});

test('a frozen (SIGSTOP) replica: no read hangs, reads move to the primary within a bound', async () => {
  replica.signalAll('SIGSTOP');
  const frozenAt = Date.now();
  let load;
  try {
    load = await readLoad(2_500);
    const h = await replicaHealth();
    assert.equal(h.state, 'down');
    assert.equal(h.inRotation, false);
  } finally {
    replica.signalAll('SIGCONT');
  }
  assert.ok(load.primary > 0);
  assert.ok(load.slowest <= load.bound, `slowest read ${load.slowest}ms (bound ${load.bound}ms: deadline ${READ_DEADLINE_MS}ms + timer delay + ${AFTER_TIMER_MS}ms)`);
  // Frozen before the first read: a frozen server answers nothing.
  assert.equal(load.replica, 0, `no read was answered by the frozen replica (last at +${load.lastOnReplica - frozenAt}ms)`);
  await until('the thawed replica to rejoin', () => onReplica(), 15_000);
});

test('a replica whose postmaster is stopped (old connections answer, new ones hang): it leaves the rotation, no read hangs', async () => {
  replica.kill('SIGSTOP'); // the postmaster only: running backends keep answering
  let load;
  try {
    // The monitor opens a fresh probe connection every PROBE_RECONNECT_EVERY probes: that one hangs
    // and fails after PROBE_TIMEOUT_MS. Reading that long (+ 1.2 s for slow rounds) lets it notice.
    load = await readLoad(PROBE_RECONNECT_EVERY * MONITOR_INTERVAL_MS + PROBE_TIMEOUT_MS + 1_200);
    const h = await replicaHealth();
    assert.equal(h.state, 'down');
    assert.equal(h.inRotation, false);
  } finally {
    replica.kill('SIGCONT');
  }
  assert.ok(load.slowest <= load.bound, `slowest read ${load.slowest}ms (bound ${load.bound}ms: deadline ${READ_DEADLINE_MS}ms + timer delay + ${AFTER_TIMER_MS}ms)`);
  assert.ok(load.primary > 0, 'reads moved to the primary');
  await until('the replica to rejoin', () => onReplica(), 15_000);
});
