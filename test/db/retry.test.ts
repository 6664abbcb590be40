// Retry by SQLSTATE: deadlocks and serialization failures re-run the whole transaction function;
// other errors fail at once; an open breaker fails fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../../src/db/cluster.ts';
import { sql } from '../../src/db/sql.ts';
import { freePort } from '../harness/freePort.ts';
import { clusterFactory, code } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase({ empty: true });
const cluster = clusterFactory(db.url);

const setup = sql('test.setup', 'CREATE TABLE IF NOT EXISTS acct (id int PRIMARY KEY, n int NOT NULL)');
const reset = sql('test.reset', 'TRUNCATE acct');
const seed = sql('test.seed', 'INSERT INTO acct VALUES (1, 0), (2, 0)');
const bump = sql('test.bump', 'UPDATE acct SET n = n + 1 WHERE id = $1');
const readN = sql('test.readN', 'SELECT n FROM acct WHERE id = $1');
const setN = sql('test.setN', 'UPDATE acct SET n = $2 WHERE id = $1');
const all = sql('test.all', 'SELECT id, n FROM acct ORDER BY id');

/** Resolves when `count` parties have arrived (or after a bounded wait, so a test cannot hang). */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return async () => {
    if (++arrived >= count) open();
    await Promise.race([gate, new Promise((r) => setTimeout(r, 3_000))]);
  };
}

async function fresh(c: Cluster): Promise<void> {
  await c.query(setup);
  await c.query(reset);
  await c.query(seed);
}

test('a deadlock is retried by re-running the transaction function; both transfers land exactly once', async () => {
  const c = cluster();
  await fresh(c);
  const meet = barrier(2);
  let attempts = 0;
  const transfer = (first: number, second: number) =>
    c.tx(async (q) => {
      const attempt = ++attempts;
      await q.query(bump, [first]);
      if (attempt <= 2) await meet(); // the first attempts lock crosswise: one of them is the deadlock victim
      await q.query(bump, [second]);
      return attempt;
    });
  const results = await Promise.all([transfer(1, 2), transfer(2, 1)]);
  assert.equal(attempts, 3, 'one function ran twice');
  assert.ok(results.some((r) => r.value === 3));
  assert.deepEqual((await c.query(all)).rows, [{ id: 1, n: 2 }, { id: 2, n: 2 }]);
  for (const r of results) assert.match(r.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
});

test('a serialization failure is retried by re-running the function; the counter invariant holds', async () => {
  const c = cluster();
  await fresh(c);
  const meet = barrier(2);
  let runs = 0;
  const increment = () =>
    c.tx(
      async (q) => {
        const run = ++runs;
        const n = (await q.query<{ n: number }>(readN, [1])).rows[0]!.n;
        if (run <= 2) await meet(); // both read the same snapshot before either writes
        await q.query(setN, [1, n + 1]);
      },
      { isolation: 'repeatable read' },
    );
  await Promise.all([increment(), increment()]);
  assert.equal(runs, 3);
  assert.deepEqual((await c.query(all)).rows[0], { id: 1, n: 2 });
});

test('other errors fail at once: the function runs once', async () => {
  const c = cluster();
  await fresh(c);
  let runs = 0;
  await assert.rejects(
    c.tx(async (q) => {
      runs++;
      await q.query(sql('test.dup', 'INSERT INTO acct VALUES (1, 0)'));
    }),
    (e: unknown) => code(e) === 'PGP_CONFLICT',
  );
  assert.equal(runs, 1);
  let single = 0;
  await assert.rejects(c.tx(async () => ++single && Promise.reject(new Error('not a database error'))), (e: unknown) => code(e) === 'PGP_INTERNAL');
  assert.equal(single, 1);
});

test('a target that refuses connections opens its breaker: calls then fail fast with PGP_CIRCUIT_OPEN', async () => {
  const port = await freePort(); // nobody listens here
  const c = cluster({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, breaker: { failureThreshold: 3, halfOpenAfterMs: 60_000 } });
  const codes: string[] = [];
  for (let i = 0; i < 4; i++) codes.push(await c.query(readN, [1], { read: true, deadlineMs: 2_000 }).then(() => 'ok', code));
  assert.equal(codes[0], 'PGP_DB_UNAVAILABLE');
  assert.equal(codes.at(-1), 'PGP_CIRCUIT_OPEN');
  const health = await c.health();
  assert.equal(health[0]!.breaker, 'open');
  assert.equal(health[0]!.state, 'down');
  await assert.rejects(c.tx(async () => 1), (e: unknown) => code(e) === 'PGP_CIRCUIT_OPEN');
});

test('a read whose connection is killed mid-statement is retried; a write is reported PGP_OUTCOME_UNKNOWN, not re-sent', async () => {
  const c = cluster();
  await fresh(c);
  const killer = cluster();
  const kill = sql('test.kill', "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()");
  const killSoon = async (tag: string): Promise<number> => {
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const n = (await killer.query<{ n: number }>(kill, [tag])).rows[0]!.n;
      if (n > 0) return n;
    }
    return 0;
  };
  const slowRead = sql('test.slowRead', "SELECT n, pg_sleep(0.5) IS NULL AS slept, 'tag-read' AS tag FROM acct WHERE id = $1");
  const [read, killedRead] = await Promise.all([c.query<{ n: number }>(slowRead, [1], { read: true }), killSoon('tag-read')]);
  assert.equal(killedRead, 1, 'the first attempt was killed');
  assert.equal(read.rows[0]!.n, 0, 'the retry answered');
  const slowWrite = sql('test.slowWrite', "UPDATE acct SET n = n + 1 WHERE id = $1 AND pg_sleep(0.5) IS NOT NULL AND 'tag-write' <> ''");
  const [write, killedWrite] = await Promise.all([c.query(slowWrite, [1]).then(() => 'success', code), killSoon('tag-write')]);
  assert.equal(killedWrite, 1);
  assert.equal(write, 'PGP_OUTCOME_UNKNOWN');
  assert.deepEqual((await c.query(all)).rows[0], { id: 1, n: 0 }, 'the write was not sent again');
});

test('a single write that was never sent is never PGP_OUTCOME_UNKNOWN: connect failures, a breaker opening during its retries, an open breaker', async () => {
  const port = await freePort(); // nobody listens here
  const c = cluster({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 } });
  const write = sql('test.neverSent', 'INSERT INTO acct VALUES ($1, 0)');
  // First call: two refused connects open the breaker, its third attempt meets the open breaker.
  const first = await c.query(write, [10], { deadlineMs: 5_000 }).then(() => 'ok', code);
  assert.equal(first, 'PGP_DB_UNAVAILABLE', 'the failure that opened the breaker is reported, not an unknown outcome');
  assert.equal((await c.health())[0]!.breaker, 'open');
  for (let i = 0; i < 3; i++) assert.equal(await c.query(write, [11 + i]).then(() => 'ok', code), 'PGP_CIRCUIT_OPEN');
  assert.equal(await c.tx((q) => q.query(write, [20])).then(() => 'ok', code), 'PGP_CIRCUIT_OPEN');
});
