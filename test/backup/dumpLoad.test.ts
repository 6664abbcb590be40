// `pgpress dump` / `pgpress load`: a migrated database with rows travels to an empty one through
// pg_dump -Fc and pg_restore; without the programs, both refuse with the install command.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { dumpCommands } from '../../src/cli/dump.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const source = await testDatabase();
const target = await testDatabase({ empty: true });
const work = mkdtempSync(join(tmpdir(), 'pgpress-dump-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function run(t: { mock: { method: (o: object, m: string, impl: (...a: unknown[]) => void) => unknown } }, env: Record<string, string>, args: string[]): Promise<string> {
  const lines: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => void lines.push(a.join(' ')));
  const program = new Command().exitOverride();
  dumpCommands(program, () => loadSettings({ ...process.env, ...env }));
  await program.parseAsync(args, { from: 'user' });
  return lines.join('\n');
}

async function one<T>(url: string, text: string): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows[0] as T;
  } finally {
    await c.end();
  }
}

test('dump then load moves the schema and the rows to an empty database', async (t) => {
  await one(source.url, 'CREATE TABLE moved (id int PRIMARY KEY, v text)');
  await one(source.url, 'INSERT INTO moved SELECT g, md5(g::text) FROM generate_series(1, 1000) g');
  const file = join(work, 'db.dump');
  const out = await run(t, { DATABASE_URL: source.url }, ['dump', '--file', file]);
  assert.match(out, /dumped into .*db\.dump/);
  await run(t, { DATABASE_URL: target.url }, ['load', '--file', file]);
  const want = await one<{ n: string; h: string }>(source.url, 'SELECT count(*)::text AS n, md5(string_agg(v, \',\' ORDER BY id)) AS h FROM moved');
  const got = await one<{ n: string; h: string }>(target.url, 'SELECT count(*)::text AS n, md5(string_agg(v, \',\' ORDER BY id)) AS h FROM moved');
  assert.deepEqual(got, want);
  const tables = await one<{ n: string }>(target.url, "SELECT count(*)::text AS n FROM pg_tables WHERE tablename IN ('articles', 'users', 'comments')");
  assert.equal(tables.n, '3', 'the migrated schema came along');
  // Loading again into the same database fails as a whole (one transaction) and says so.
  await assert.rejects(run(t, { DATABASE_URL: target.url }, ['load', '--file', file]), (e) => isPgpressError(e) && /nothing was loaded/.test(e.message));
});

test('without pg_dump/pg_restore (PG_BINDIR empty) dump and load refuse with the install command', async (t) => {
  const empty = join(work, 'empty-bin');
  mkdirSync(empty);
  for (const args of [['dump', '--file', join(work, 'never.dump')], ['load', '--file', join(work, 'db.dump')]]) {
    await assert.rejects(run(t, { DATABASE_URL: source.url, PG_BINDIR: empty }, args), (e) =>
      isPgpressError(e) && e.code === 'PGP_TOOL_MISSING' && /apt-get install postgresql-client-\d+/.test(e.message) && e.message.includes(empty));
  }
  assert.equal(existsSync(join(work, 'never.dump')), false);
});
