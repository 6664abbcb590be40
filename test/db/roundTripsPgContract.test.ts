// src/db/pipeline.ts reaches into node-postgres in one place: pg.Result, pg.utils.prepareValue,
// pg.DatabaseError, the Connection's parse/bind/describe/execute/sync and its 'parseComplete'
// event (which named steps a connection has prepared). This fails if pg changes
// any of them: parameters encode as pg.Query encodes them, rows parse with the client's types, an
// error names its step and the steps after it never run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sendPipeline } from '../../src/db/pipeline.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase({ empty: true });
const c = new pg.Client({ connectionString: db.url });
c.on('error', () => undefined);
await c.connect();
after(() => c.end());

test('the pieces of pg the pipeline uses are still there', () => {
  const p = pg as unknown as { Result: unknown; utils: { prepareValue: unknown }; DatabaseError: unknown };
  assert.equal(typeof p.Result, 'function');
  assert.equal(typeof p.utils.prepareValue, 'function');
  assert.equal(typeof p.DatabaseError, 'function');
  const con = (c as unknown as { connection: Record<string, unknown> }).connection;
  for (const m of ['parse', 'bind', 'describe', 'execute', 'sync', 'sendCopyFail', 'on', 'removeListener']) assert.equal(typeof con[m], 'function', `Connection.${m}`);
});

test('steps run in order with parameters encoded and rows typed as pg.Query does', async () => {
  const when = new Date('2026-01-02T03:04:05Z');
  const out = await sendPipeline(c, [
    { text: 'CREATE TEMP TABLE t (n int, at timestamptz, tags text[], doc jsonb)', values: [] },
    { text: 'INSERT INTO t VALUES ($1, $2, $3, $4)', values: [7, when, ['a', 'b,c'], { k: [1] }] },
    { text: 'SELECT n, at, tags, doc FROM t', values: [] },
  ]);
  assert.equal(out.error, undefined);
  assert.deepEqual(out.results.map((r) => r.command), ['CREATE', 'INSERT', 'SELECT']);
  const same = await c.query('SELECT n, at, tags, doc FROM t');
  assert.deepEqual(out.results[2]!.rows, same.rows);
  assert.deepEqual(out.results[2]!.rows[0], { n: 7, at: when, tags: ['a', 'b,c'], doc: { k: [1] } });
});

test('a server error names its step; the steps after it are skipped up to the Sync', async () => {
  const out = await sendPipeline(c, [
    { text: 'SELECT 1 AS one', values: [] },
    { text: 'SELECT 1 / $1::int', values: [0] },
    { text: 'CREATE TEMP TABLE never_made (x int)', values: [] },
  ]);
  assert.ok(out.error instanceof pg.DatabaseError);
  assert.equal((out.error as pg.DatabaseError).code, '22012');
  assert.equal(out.failedStep, 1);
  assert.equal(out.results.length, 1);
  assert.equal((await c.query("SELECT to_regclass('pg_temp.never_made') AS r")).rows[0].r, null);
});

test('on a client whose connection already failed pg refuses without writing: the outcome says nothing was sent', async () => {
  const doomed = new pg.Client({ connectionString: db.url });
  const failed = new Promise<void>((r) => doomed.on('error', () => r()));
  await doomed.connect();
  const pid = (await doomed.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  await c.query('SELECT pg_terminate_backend($1)', [pid]);
  await failed;
  const out = await sendPipeline(doomed, [{ text: 'SELECT 1', values: [] }]);
  assert.ok(out.error instanceof Error);
  assert.equal(out.sent, false);
  assert.equal(out.failedStep, undefined);
  await doomed.end().catch(() => undefined);
});

test('named steps are prepared once per connection; a Parse the server skipped or refused is sent again, one it completed is not', async () => {
  const con = (c as unknown as { connection: { on(e: string, f: () => void): void; removeListener(e: string, f: () => void): void } }).connection;
  let parses = 0;
  const count = (): void => void parses++;
  con.on('parseComplete', count);
  try {
    const add = { name: 'test.pipe.add', text: 'SELECT $1::int + 1 AS n', values: [1] };
    assert.equal((await sendPipeline(c, [add])).results[0]!.rows[0].n, 2);
    assert.equal(parses, 1);
    assert.equal((await sendPipeline(c, [{ ...add, values: [41] }])).results[0]!.rows[0].n, 42);
    assert.equal(parses, 1, 'the second pipeline binds the prepared statement: no Parse, no planning');
    const prepared = (await c.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r) => r.name);
    assert.ok(prepared.includes('test.pipe.add'), `prepared: ${prepared.join(', ')}`);
    // Parsed, then its Execute failed: prepared all the same (a second Parse would be 42P05).
    const div = { name: 'test.pipe.div', text: 'SELECT 10 / $1::int AS q', values: [0] };
    assert.equal(((await sendPipeline(c, [div])).error as pg.DatabaseError).code, '22012');
    const again = await sendPipeline(c, [{ ...div, values: [5] }]);
    assert.equal(again.error, undefined, String(again.error));
    assert.equal(again.results[0]!.rows[0].q, 2);
    // Skipped after an earlier step's error: never prepared, so Parsed next time (a Bind alone would be 26000).
    const after1 = { name: 'test.pipe.after', text: 'SELECT 2 AS two', values: [] };
    assert.equal(((await sendPipeline(c, [{ text: 'SELECT 1 / 0', values: [] }, after1])).error as pg.DatabaseError).code, '22012');
    const later = await sendPipeline(c, [after1]);
    assert.equal(later.error, undefined, String(later.error));
    assert.equal(later.results[0]!.rows[0].two, 2);
    // Refused at Parse: not prepared; the name is parsed again.
    assert.equal(((await sendPipeline(c, [{ name: 'test.pipe.bad', text: 'SELEC 1', values: [] }])).error as pg.DatabaseError).code, '42601');
    assert.equal((await sendPipeline(c, [{ name: 'test.pipe.bad', text: 'SELECT 3 AS x', values: [] }])).results[0]!.rows[0].x, 3);
  } finally {
    con.removeListener('parseComplete', count);
  }
});

test('a named step is described once per connection: later pipelines send no Describe and type rows as before; a step that failed is described again', async () => {
  const con = (c as unknown as { connection: { on(e: string, f: () => void): void; removeListener(e: string, f: () => void): void } }).connection;
  let descriptions = 0;
  const count = (): void => void descriptions++;
  con.on('rowDescription', count);
  try {
    const typed = { name: 'test.pipe.typed', text: "SELECT $1::int AS n, $2::timestamptz AS at, '{1,2}'::int[] AS xs", values: [1, new Date('2026-01-02T03:04:05Z')] };
    const first = await sendPipeline(c, [typed]);
    assert.equal(descriptions, 1);
    const second = await sendPipeline(c, [{ ...typed, values: [2, new Date('2027-01-02T03:04:05Z')] }]);
    assert.equal(descriptions, 1, 'no second RowDescription: the kept one parsed the rows');
    assert.deepEqual(second.results[0]!.rows, [{ n: 2, at: new Date('2027-01-02T03:04:05Z'), xs: [1, 2] }]);
    assert.deepEqual(second.results[0]!.fields, first.results[0]!.fields);
    // A statement without rows keeps "no rows": nothing is parsed for it later either.
    const none = { name: 'test.pipe.none', text: 'SELECT set_config($1, $2, false) IS NULL AS unset', values: ['pgpress.x', 'y'] };
    await sendPipeline(c, [none]);
    assert.equal(descriptions, 2);
    // Its Execute failed after the Describe (random() keeps the planner from folding the division
    // at Bind): no description kept, described again.
    const div = { name: 'test.pipe.div2', text: 'SELECT 10 / CASE WHEN random() >= 0 THEN $1::int END AS q', values: [0] };
    assert.equal(((await sendPipeline(c, [div])).error as pg.DatabaseError).code, '22012');
    assert.equal(descriptions, 3);
    assert.deepEqual((await sendPipeline(c, [{ ...div, values: [5] }])).results[0]!.rows, [{ q: 2 }]);
    assert.equal(descriptions, 4);
    assert.deepEqual((await sendPipeline(c, [{ ...div, values: [2] }])).results[0]!.rows, [{ q: 5 }]);
    assert.equal(descriptions, 4);
  } finally {
    con.removeListener('rowDescription', count);
  }
});
