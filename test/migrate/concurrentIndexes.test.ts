// The runner's invalid-index cleanup drops only what its own statement left: another session's
// CREATE INDEX CONCURRENTLY, in progress (and so INVALID too) while a no-transaction migration
// fails, must survive.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../../src/migrate/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { migrationsDir } from './helpers.ts';

const { url } = await testDatabase({ empty: true });
const clients = [0, 1, 2, 3].map(() => new pg.Client({ connectionString: url }));
for (const x of clients) {
  x.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
  await x.connect();
}
const [c, holdMig, holdOther, builder] = clients as [pg.Client, pg.Client, pg.Client, pg.Client];
after(async () => {
  for (const x of clients) await x.end();
});

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const builds = async (): Promise<number> => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_progress_create_index')).rows[0]!.n;

test("a failing no-transaction migration leaves another session's CREATE INDEX CONCURRENTLY alone", async () => {
  await c.query('CREATE TABLE mig_t (x int); INSERT INTO mig_t VALUES (1), (1)');
  await c.query('CREATE TABLE other_t (x int); INSERT INTO other_t SELECT generate_series(1, 100)');
  const dir = migrationsDir({
    '0001_unique.sql': '-- pgpress:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS mig_t_x_key ON mig_t (x);\n',
  });
  // Open writers on both tables: each concurrent build waits for them before it can finish.
  await holdMig.query('BEGIN');
  await holdMig.query('INSERT INTO mig_t VALUES (2)');
  await holdOther.query('BEGIN');
  await holdOther.query('INSERT INTO other_t VALUES (0)');

  const logs: string[] = [];
  const run = migrate({ url, dir, lock: { timeoutMs: 15_000, retries: 0 }, log: (m) => logs.push(m) });
  const settled = run.then(() => 'applied', (e: Error) => e.message);
  await until('the migration to start its build', async () => (await builds()) === 1);
  // Meanwhile another session starts its own build on another table; it waits for holdOther.
  const other = builder.query('CREATE INDEX CONCURRENTLY other_t_x_idx ON other_t (x)');
  await until('the second build to start', async () => (await builds()) === 2
    && (await c.query("SELECT 1 FROM pg_class WHERE relname = 'other_t_x_idx'")).rowCount === 1);
  const invalid = await c.query("SELECT 1 FROM pg_index WHERE indexrelid = 'other_t_x_idx'::regclass AND NOT indisvalid");
  assert.equal(invalid.rowCount, 1, 'an index being built concurrently is INVALID until it is done');

  // The migration's build goes on and fails on the duplicate.
  await holdMig.query('COMMIT');
  let outcome: string | undefined;
  void settled.then((o) => (outcome = o));
  await until('the migration to fail, or to wait to drop an index', async () =>
    outcome !== undefined
    || ((await c.query("SELECT 1 FROM pg_stat_activity WHERE query ILIKE 'DROP INDEX CONCURRENTLY%other_t_x_idx%' AND wait_event_type = 'Lock'")).rowCount ?? 0) > 0);
  // Now the other build may finish.
  await holdOther.query('COMMIT');
  await other;
  assert.match(await settled, /could not create unique index|duplicate key/);
  // The cleanup named only the migration's own index (today's list-everything-invalid cleanup
  // also went for other_t_x_idx: a deadlock with the other build decided which one lost).
  assert.deepEqual(logs, ['0001_unique.sql: dropped the invalid index(es) the failed statement left: "public"."mig_t_x_key"']);

  const { rows } = await c.query<{ name: string; valid: boolean }>(
    "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN ('other_t_x_idx', 'mig_t_x_key') ORDER BY 1");
  assert.deepEqual(rows, [{ name: 'other_t_x_idx', valid: true }], `the other session's index survives; the migration's own is dropped (${logs.join(' | ')})`);
});

test("a migration starting while another session builds an index of the same name does not drop that build", async () => {
  await c.query('CREATE TABLE same_t (x int); INSERT INTO same_t SELECT generate_series(1, 100)');
  const dir = migrationsDir({
    '0001_same.sql': '-- pgpress:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS same_t_x_idx ON same_t (x);\n',
  });
  await holdOther.query('BEGIN');
  await holdOther.query('INSERT INTO same_t VALUES (0)');
  // The other session's build of same_t_x_idx: INVALID (in progress) while holdOther is open.
  const other = builder.query('CREATE INDEX CONCURRENTLY same_t_x_idx ON same_t (x)');
  await until('the other build to start', async () => (await builds()) === 1
    && (await c.query("SELECT 1 FROM pg_class WHERE relname = 'same_t_x_idx'")).rowCount === 1);

  // The runner's start-of-file cleanup must not take it for a killed run's leftover (and try to
  // drop it): the runner goes on to its own statement, which waits for the other build's lock
  // and gives up at lock_timeout, to be run again later.
  const logs: string[] = [];
  await assert.rejects(migrate({ url, dir, lock: { timeoutMs: 1_000, retries: 0 }, log: (m) => logs.push(m) }),
    /0001_same\.sql failed at line 2 \(CREATE INDEX CONCURRENTLY.*lock timeout/);
  assert.deepEqual(logs.filter((l) => /dropped|could not drop/.test(l)), []);
  await holdOther.query('COMMIT');
  await other;
  const { rows } = await c.query<{ valid: boolean }>("SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'same_t_x_idx'::regclass");
  assert.deepEqual(rows, [{ valid: true }]);
});
