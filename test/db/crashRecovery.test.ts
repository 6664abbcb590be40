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
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster | undefined;
let c: Cluster | undefined;
after(async () => {
  await c?.close();
  await pgc?.destroy();
});

const insert = sql('test.recoveryInsert', 'INSERT INTO w (worker) VALUES ($1)');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The time a fresh connection first answered SELECT 1 (the start of that attempt), polling every 10 ms. */
async function acceptsConnectionsAt(url: string, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const startedAt = Date.now();
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return startedAt;
    } catch {
      if (Date.now() > end) throw new Error(`the server did not accept connections within ${timeoutMs}ms`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(10);
  }
}

// The promise: the probe tries a fresh connection every probeIntervalMs (200 ms by default; 50 ms
// while the server says it is starting up), so the first write after the server is up waits at
// most one interval, one probe and one write. 1 s is what the issue asks; it leaves ~4x the
// promise for a loaded two-core machine.
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
    pgc.primary.signalAll('SIGKILL');
    const crashedAt = Date.now();
    await sleep(300); // the writers fail meanwhile and open the breaker
    const upAt = acceptsConnectionsAt(pgc.primary.url, 60_000);
    const restarted = pgc.primary.start();
    const up = await upAt;
    await restarted;
    const waitUntil = Date.now() + 15_000;
    while (!acks.some((t) => t >= up) && Date.now() < waitUntil) await sleep(5);
    const firstAck = acks.find((t) => t >= up);
    assert.ok(firstAck !== undefined, 'writes are acknowledged again after the restart');
    assert.ok(!acks.some((t) => t > crashedAt + 50 && t < up), 'no write was acknowledged while the server was down');
    const figure = firstAck - up;
    console.log(`first acknowledged write ${figure}ms after the server accepted connections (${up - crashedAt}ms after the crash)`);
    assert.ok(figure <= BOUND_MS, `first write acknowledged ${figure}ms after the server accepted connections (bound ${BOUND_MS}ms)`);
  } finally {
    stop = true;
    await Promise.all(writers);
  }
});
