// Point reads batched into one `WHERE id = ANY($1)` per event-loop turn (src/db/pointReadBatch.ts),
// on a real Cluster: rows and nulls per caller, the size bound, one caller's deadline failing it
// alone, the strictest token carried, and a statement error reaching every caller of its batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { PointReadBatcher, batchingReads } from '../../src/db/pointReadBatch.ts';
import { newSession } from '../../src/db/session.ts';
import type { Queryable, QueryOptions } from '../../src/db/queryable.ts';
import { sql, type NamedQuery } from '../../src/db/sql.ts';
import { clusterFactory, code } from '../harness/testCluster.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase({ empty: true });
const cluster = clusterFactory(db.url)({ max: 4 });
await cluster.query(sql('t.pr.mk', 'CREATE TABLE items (id bigint PRIMARY KEY, v text)'));
await cluster.query(sql('t.pr.fill', "INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 100) g"));
type Row = { id: string; v: string };
const many = sql('t.pr.many', 'SELECT id::text, v FROM items WHERE id = ANY($1::bigint[])');
const slowMany = sql('t.pr.slow', 'SELECT id::text, v FROM items, pg_sleep(0.4) WHERE id = ANY($1::bigint[])');

/** The Cluster, recording each statement it is sent (what the batcher asked for). */
function recording(): { db: Queryable; sent: { q: NamedQuery; params: readonly unknown[]; opts: QueryOptions | undefined }[] } {
  const sent: { q: NamedQuery; params: readonly unknown[]; opts: QueryOptions | undefined }[] = [];
  return {
    sent,
    db: { query: <R extends pg.QueryResultRow>(q: NamedQuery, params: readonly unknown[] = [], opts?: QueryOptions) => (sent.push({ q, params, opts }), cluster.query<R>(q, params, opts)) },
  };
}

test('32 callers of one turn: the first is sent at once, the other 31 share one statement; each gets its row, a missing id null', async () => {
  const r = recording();
  const b = new PointReadBatcher<Row>(r.db, { many, keyOf: (row) => Number(row.id) });
  const ids = Array.from({ length: 32 }, (_, i) => (i % 4 === 3 ? 1000 + i : i + 1));
  const rows = await Promise.all(ids.map((id) => b.load(id)));
  assert.deepEqual(r.sent.map((s) => (Array.isArray(s.params[0]) ? s.params[0].length : 1)), [1, 31]);
  rows.forEach((row, i) => assert.deepEqual(row, ids[i]! > 100 ? null : { id: String(ids[i]), v: `v${ids[i]}` }));
  assert.equal(r.sent[0]!.opts?.read, true, 'a read: the Cluster may route it to a replica');
});

test('the batch size is bounded: 25 callers at 10 a batch are the first alone, then 10, 10 and 4', async () => {
  const r = recording();
  const b = new PointReadBatcher<Row>(r.db, { many, keyOf: (row) => Number(row.id), maxBatch: 10 });
  const rows = await Promise.all(Array.from({ length: 25 }, (_, i) => b.load(i + 1)));
  assert.deepEqual(r.sent.map((s) => (Array.isArray(s.params[0]) ? s.params[0].length : 1)), [1, 10, 10, 4]);
  assert.deepEqual(rows.map((x) => x?.v), Array.from({ length: 25 }, (_, i) => `v${i + 1}`));
});

test("one caller's deadline fails that caller alone; the others get their rows", async () => {
  const b = new PointReadBatcher<Row>(cluster, { many: slowMany, keyOf: (row) => Number(row.id) });
  const t0 = Date.now();
  // The first read is in flight alone; the next two share a batch.
  const [, short, patient] = await Promise.allSettled([b.load(3), b.load(1, { deadline: Date.now() + 100 }), b.load(2, { deadline: Date.now() + 5_000 })]);
  assert.equal(short.status, 'rejected');
  assert.equal(code((short as PromiseRejectedResult).reason), 'PGP_DEADLINE_EXCEEDED');
  assert.deepEqual(patient, { status: 'fulfilled', value: { id: '2', v: 'v2' } });
  assert.ok(Date.now() - t0 < 4_000);
});

test('the batch carries the strictest read-your-writes token of its callers', async () => {
  const r = recording();
  const b = new PointReadBatcher<Row>(r.db, { many, keyOf: (row) => Number(row.id) });
  await Promise.all([b.load(9), b.load(1), b.load(2, { token: '0/10' }), b.load(3, { token: '1/5' }), b.load(4, { token: '0/FFFFFF' })]);
  assert.equal(r.sent.length, 2, 'the first alone, the other four in one batch');
  assert.equal(r.sent[1]!.opts?.token, '1/5');
});

test('a failed statement fails every caller of its batch with its error', async () => {
  const broken = sql('t.pr.broken', 'SELECT id::text, v FROM no_such_table WHERE id = ANY($1::bigint[])');
  const b = new PointReadBatcher<Row>(cluster, { many: broken, keyOf: (row) => Number(row.id) });
  const out = await Promise.allSettled([b.load(1), b.load(2), b.load(3)]);
  for (const o of out) {
    assert.equal(o.status, 'rejected');
    assert.equal((o as PromiseRejectedResult).reason.pg?.sqlstate, '42P01');
  }
});

test('a batch of one id runs the single-id statement when one is given', async () => {
  const r = recording();
  const one = sql('t.pr.one', 'SELECT id::text, v FROM items WHERE id = $1');
  const b = new PointReadBatcher<Row>(r.db, { many, one, keyOf: (row) => Number(row.id) });
  assert.deepEqual(await b.load(5), { id: '5', v: 'v5' });
  assert.equal(await b.load(5000), null);
  assert.deepEqual(r.sent.map((s) => [s.q.name, s.params]), [['t.pr.one', [5]], ['t.pr.one', [5000]]]);
});

test('a lone read goes out with the caller\'s own options object (no wait, nothing rebuilt); a batch takes the strictest of tokens and sessions', async () => {
  const r = recording();
  const b = new PointReadBatcher<Row>(r.db, { many, keyOf: (row) => Number(row.id) });
  const mine: QueryOptions = { read: true, deadlineMs: 5_000, session: newSession('0/1') };
  assert.deepEqual((await b.query(7, mine)).rows, [{ id: '7', v: 'v7' }]);
  assert.equal(r.sent[0]!.opts, mine, 'the lone read carries the caller\'s options as they came');
  const out = await Promise.all([b.query(8), b.query(1, { read: true, session: newSession('2/0') }), b.query(2, { read: true, token: '1/0' }), b.query(1000)]);
  assert.deepEqual(out.map((x) => x.rows), [[{ id: '8', v: 'v8' }], [{ id: '1', v: 'v1' }], [{ id: '2', v: 'v2' }], []]);
  assert.equal(r.sent.length, 3);
  assert.equal(r.sent[2]!.opts?.token, '2/0', "a session's token counts as the caller's");
});

test('batchingReads routes only the registered single-id read (read: true, one numeric id) to its batcher', async () => {
  const r = recording();
  const one = sql('t.pr.one2', 'SELECT id::text, v FROM items WHERE id = $1');
  const reads = batchingReads(r.db, [new PointReadBatcher<Row>(r.db, { many, one, keyOf: (row) => Number(row.id) })]);
  const got = await Promise.all([1, 2, 3].map((id) => reads.query<Row>(one, [id], { read: true })));
  assert.deepEqual(got.map((g) => g.rows[0]?.v), ['v1', 'v2', 'v3']);
  assert.deepEqual(r.sent.map((s) => s.q.name), ['t.pr.one2', 't.pr.many'], 'the first alone, then one batch');
  await Promise.all([reads.query(one, [4]), reads.query(one, ['5'], { read: true })]);
  assert.deepEqual(r.sent.slice(2).map((s) => s.q.name), ['t.pr.one2', 't.pr.one2'], 'not a read, or not a numeric id: sent as it came');
});
