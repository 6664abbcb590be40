// Back fast after an outage: the primary is killed (kill -9 of the postmaster and every backend)
// under a steady stream of writes and restarted; writes are acknowledged again within a second of
// the server accepting connections — the breaker's probe closes the circuit, not its pause.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import { sql } from '../../src/db/sql.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { withLoopDelay } from '../harness/loopDelay.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster | undefined;
let c: Cluster | undefined;
after(async () => {
  await c?.close();
  await pgc?.destroy();
});

const insert = sql('test.recoveryInsert', 'INSERT INTO w (worker) VALUES ($1)');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls with a fresh connection every 10 ms until one answers SELECT 1. up: when that attempt
 * started; downUntil: when the last refused attempt started (the server was not ready then).
 */
async function acceptsConnections(url: string, timeoutMs: number): Promise<{ up: number; downUntil: number }> {
  const end = Date.now() + timeoutMs;
  let downUntil = 0;
  for (;;) {
    const startedAt = Date.now();
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { up: startedAt, downUntil };
    } catch {
      downUntil = startedAt;
      if (Date.now() > end) throw new Error(`the server did not accept connections within ${timeoutMs}ms`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(10);
  }
}

// The promise: the probe tries a fresh connection every probeIntervalMs (200 ms by default; 50 ms
// while the server says it is starting up), so the first write after the server is up waits at
// most one interval, one probe and one write. 1 s is what the issue asks (~4x the promise); on a
// loaded machine timers run late, so the event loop's measured delay is added.
const BOUND_MS = 1_000;

test('after a crash (kill -9) and restart, writes are acknowledged within 1 s of the server accepting connections', async () => {
  pgc = await startCluster();
  await pgc.primary.query('CREATE TABLE w (id bigserial PRIMARY KEY, worker int NOT NULL)');
  // A long half-open pause (5 s): only the probe can make the bound; the default pause is 2 s.
  c = new Cluster({ url: pgc.primary.url, metrics: createDbMetrics(new Registry()), breaker: { halfOpenAfterMs: 5_000 } });
  const cluster = c;
  const acks: number[] = [];
  let stop = false;
  const writer = async (worker: number): Promise<void> => {
    while (!stop) {
      try {
        await cluster.tx((q) => q.query(insert, [worker]), { deadlineMs: 1_000 });
        acks.push(Date.now());
      } catch {
        await sleep(10);
      }
    }
  };
  const writers = [1, 2, 3, 4].map(writer);
  try {
    while (acks.length < 20) await sleep(20);
    const { value: outage, maxDelayMs } = await withLoopDelay(async () => {
      pgc!.primary.signalAll('SIGKILL');
      const crashedAt = Date.now();
      await sleep(300); // the writers fail meanwhile and open the breaker
      const accepting = acceptsConnections(pgc!.primary.url, 60_000);
      const restarted = pgc!.primary.start();
      const { up, downUntil } = await accepting;
      await restarted;
      const waitUntil = Date.now() + 15_000;
      while (!acks.some((t) => t > downUntil) && Date.now() < waitUntil) await sleep(5);
      return { crashedAt, up, downUntil, firstAck: acks.find((t) => t > downUntil) };
    });
    const { crashedAt, up, downUntil, firstAck } = outage;
    assert.ok(firstAck !== undefined, 'writes are acknowledged again after the restart');
    assert.ok(!acks.some((t) => t > crashedAt + 50 && t <= downUntil), 'no write was acknowledged while the server was down');
    const figure = Math.max(0, firstAck - up);
    const bound = Math.ceil(BOUND_MS + maxDelayMs);
    console.log(`first acknowledged write ${figure}ms after the server accepted connections (${up - crashedAt}ms after the crash; event-loop delay up to ${Math.round(maxDelayMs)}ms)`);
    assert.ok(figure <= bound, `first write acknowledged ${figure}ms after the server accepted connections (bound ${bound}ms: ${BOUND_MS}ms + timer delay)`);
  } finally {
    stop = true;
    await Promise.all(writers);
  }
});
