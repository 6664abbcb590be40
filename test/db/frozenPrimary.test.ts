// A frozen primary (SIGSTOP of the postmaster and every backend: sockets stay open, nothing
// answers) cannot hold a call: default-option calls end with a catalogued error within the lane's
// acquire timeout + statement timeout, the failures open the breaker, and after SIGCONT the
// Cluster serves again.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import { sql } from '../../src/db/sql.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { startCluster, type PgNode, type TestCluster } from '../harness/pgCluster.ts';
import { code } from '../harness/testCluster.ts';

let pgc: TestCluster | undefined;
let c: Cluster | undefined;
let frozen: number[] = [];
after(async () => {
  thaw();
  await c?.close();
  await pgc?.destroy();
});

const ACQUIRE_MS = 400;
const STATEMENT_MS = 800;
const BOUND_MS = ACQUIRE_MS + STATEMENT_MS;
const SLACK_MS = 1_000; // a loaded two-core machine
const HUNG_MS = 15_000; // a call this late counts as hung (today's code: for ever)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const readQ = sql('test.frozen.read', 'SELECT count(*)::int AS n FROM f');
const writeQ = sql('test.frozen.write', 'INSERT INTO f (v) VALUES ($1)');

/** The postmaster and every process it started (its backends and auxiliary processes). */
function serverPids(node: PgNode): number[] {
  const postmaster = Number(fs.readFileSync(path.join(node.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  return [postmaster, ...children];
}

function freeze(node: PgNode): void {
  frozen = serverPids(node);
  for (const pid of frozen) process.kill(pid, 'SIGSTOP');
}

function thaw(): void {
  for (const pid of frozen) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  }
  frozen = [];
}

type Outcome = { code: string; ms: number };
async function timed(fn: () => Promise<unknown>): Promise<Outcome> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((r) => (timer = setTimeout(() => r('hung'), HUNG_MS)));
  const result = await Promise.race([fn().then(() => 'ok', code), hung]);
  clearTimeout(timer);
  return { code: result, ms: Math.round(performance.now() - t0) };
}

test('a frozen primary: default-option calls end with a catalogued error within their bound, the breaker opens, SIGCONT brings service back', async (t) => {
  pgc = await startCluster();
  await pgc.primary.query('CREATE TABLE f (id serial PRIMARY KEY, v int NOT NULL)');
  c = new Cluster({
    url: pgc.primary.url,
    metrics: createDbMetrics(new Registry()),
    max: 4,
    acquireTimeoutMs: ACQUIRE_MS,
    statementTimeoutMs: STATEMENT_MS,
    breaker: { failureThreshold: 3, halfOpenAfterMs: 2_000 },
  });
  const cluster = c;
  // Warm connections: the calls below find open sockets to a server that no longer answers.
  await Promise.all([1, 2, 3, 4].map(() => cluster.query(readQ)));
  await cluster.tx((q) => q.query(writeQ, [0]));

  freeze(pgc.primary);
  try {
    const calls: [string, () => Promise<unknown>][] = [
      ['read', () => cluster.query(readQ, [], { read: true })],
      ['tx', () => cluster.tx((q) => q.query(writeQ, [1]))],
      ['tx2', () => cluster.tx(async (q) => (await q.query(readQ)).rows)],
      ['read-queued', () => cluster.query(readQ, [], { read: true })],
      ['tx-queued', () => cluster.tx((q) => q.query(writeQ, [2]))],
    ];
    const first = await Promise.all(calls.map(async ([name, fn]) => ({ name, ...(await timed(fn)) })));
    t.diagnostic(`frozen: ${first.map((o) => `${o.name} ${o.code} ${o.ms} ms`).join(', ')}`);
    for (const o of first) {
      assert.ok(['PGP_DEADLINE_EXCEEDED', 'PGP_POOL_TIMEOUT', 'PGP_DB_UNAVAILABLE', 'PGP_CIRCUIT_OPEN'].includes(o.code), `${o.name} ended with a catalogued 503/504, got ${o.code} after ${o.ms} ms`);
      assert.ok(o.ms <= BOUND_MS + SLACK_MS, `${o.name} ended within its bound (${BOUND_MS} ms + slack), took ${o.ms} ms`);
    }
    // A single statement without `read: true` is a write: once sent it may run when the server
    // wakes, so "outcome unknown" (503) is its honest answer; it is bounded like the rest.
    const writes = await Promise.all([timed(() => cluster.query(writeQ, [3])), timed(() => cluster.query(readQ))]);
    for (const w of writes) {
      assert.ok(['PGP_OUTCOME_UNKNOWN', 'PGP_DEADLINE_EXCEEDED', 'PGP_POOL_TIMEOUT', 'PGP_DB_UNAVAILABLE', 'PGP_CIRCUIT_OPEN'].includes(w.code), `single write: ${w.code}`);
      assert.ok(w.ms <= BOUND_MS + SLACK_MS, `single write ended within its bound, took ${w.ms} ms`);
    }
    // The frozen target's failures count toward its breaker: it opens, and calls fail fast.
    let fast: Outcome = { code: 'none', ms: 0 };
    const seen: string[] = [];
    for (let i = 0; i < 40 && !(fast.code === 'PGP_CIRCUIT_OPEN' && fast.ms < 200); i++) {
      fast = await timed(() => cluster.query(readQ, [], { read: true }));
      seen.push(`${fast.code} ${fast.ms} ms`);
      assert.ok(fast.ms <= BOUND_MS + SLACK_MS, `every call stays within its bound (${fast.ms} ms)`);
    }
    assert.equal(fast.code, 'PGP_CIRCUIT_OPEN', `the breaker opened and calls fail fast (seen: ${seen.join(', ')})`);
    assert.notEqual((await cluster.health())[0]!.breaker, 'closed');
    const pinged = performance.now();
    assert.equal(await cluster.ping(), false);
    assert.ok(performance.now() - pinged < 2_000 + SLACK_MS, 'ping is bounded too');
  } finally {
    thaw();
  }
  // Service returns: within a few seconds both kinds of call succeed again.
  const back = Date.now() + 10_000;
  let last: Outcome = { code: 'none', ms: 0 };
  for (;;) {
    const r = await timed(() => cluster.query(readQ));
    const t = await timed(() => cluster.tx((q) => q.query(writeQ, [4])));
    if (r.code === 'ok' && t.code === 'ok') break;
    last = r.code === 'ok' ? t : r;
    assert.ok(Date.now() < back, `service did not return within 10 s after SIGCONT (last: ${last.code})`);
    await sleep(100);
  }
  t.diagnostic(`service back ${Date.now() - back + 10_000} ms after SIGCONT`);
});
