// The pgBackRest path through the CLI (Debian `pgbackrest`, installed by the test when missing):
// BACKUP_TOOL=pgbackrest configures the stanza and archive-push, full then incremental backups
// (auto keeps using pgBackRest once configured), verify, a restore to T, and retention.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findProgram, pgOwner, runProgram } from '../../src/backup/pgBinaries.ts';
import { ensureTool } from '../harness/debianTool.ts';
import { freePort } from '../harness/freePort.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';
import { okJson, runCli, type CliRun } from '../harness/cli.ts';

ensureTool({ command: 'pgbackrest', candidates: ['/usr/bin/pgbackrest'], pkg: 'pgbackrest', neededBy: 'the pgBackRest backup tests' });

const work = mkdtempSync(join(tmpdir(), 'pgpress-pgbackrest-'));
chmodSync(work, 0o755);
const owner = pgOwner();
if (owner) chownSync(work, owner.uid, owner.gid);
const stops: (() => Promise<unknown>)[] = [];
let pgc: TestCluster | undefined;
after(async () => {
  for (const stop of stops) await stop().catch(() => undefined);
  await pgc?.destroy();
  rmSync(work, { recursive: true, force: true });
});

const pgpress = (env: Record<string, string>, args: string[]): Promise<CliRun> => runCli(args, env, ['DATABASE_URL', 'BACKUP_DIR', 'BACKUP_TOOL']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('pgBackRest: stanza, full and incremental backups, verify, restore to T, retention', async () => {
  pgc = await startCluster();
  const env = { DATABASE_URL: pgc.primary.url, BACKUP_DIR: join(work, 'backups') };
  const first = await pgpress({ ...env, BACKUP_TOOL: 'pgbackrest' }, ['backup', '--type', 'full']);
  assert.match(first.stderr, /PGP_BACKUP_FAILED: WAL archiving .* restart the PostgreSQL server/);
  await pgc.primary.stop();
  await pgc.primary.start();
  const [cmd] = await pgc.primary.query<{ c: string }>("SELECT current_setting('archive_command') AS c");
  assert.match(cmd!.c, /pgbackrest --config=.*--stanza=pgpress archive-push %p/);

  await pgc.primary.query('CREATE TABLE items (id int PRIMARY KEY)');
  await pgc.primary.query('INSERT INTO items SELECT generate_series(1, 100)');
  const full = okJson<{ tool: string; type: string; tables: number }>(await pgpress({ ...env, BACKUP_TOOL: 'pgbackrest' }, ['backup', '--type', 'full', '--json']));
  assert.deepEqual([full.tool, full.type, full.tables], ['pgbackrest', 'full', 1]);

  await pgc.primary.query('INSERT INTO items SELECT generate_series(101, 150)');
  await sleep(1100); // pgBackRest labels and times have whole seconds
  const t = new Date();
  await sleep(1100);
  await pgc.primary.query('INSERT INTO items SELECT generate_series(151, 200)');
  // BACKUP_TOOL unset (auto): the server archives through pgpress's pgBackRest configuration.
  const incr = okJson<{ tool: string; type: string; backups: number }>(await pgpress(env, ['backup', '--json']));
  assert.deepEqual([incr.tool, incr.type, incr.backups], ['pgbackrest', 'incr', 2]);

  const report = okJson<{ ok: boolean; indexesChecked: number; tables: { name: string; ok: boolean; rows: number }[] }>(await pgpress(env, ['backup', 'verify', '--json']));
  assert.ok(report.ok && report.indexesChecked > 0, JSON.stringify(report));
  assert.deepEqual(report.tables, [{ name: 'public.items', rows: 200, ok: true }]);

  const port = await freePort();
  const target = join(work, 'at-t');
  const restored = okJson<{ dataDir: string }>(await pgpress(env, ['restore', '--to', t.toISOString(), '--target', target, '--port', String(port), '--json']));
  const pgCtl = findProgram('pg_ctl', readFileSync(join(restored.dataDir, 'PG_VERSION'), 'utf8').trim());
  stops.push(() => runProgram(pgCtl, ['stop', '-D', target, '-m', 'immediate']));
  const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await c.connect();
  try {
    const { rows: [r] } = await c.query<{ n: string; max: number }>('SELECT count(*)::text AS n, max(id) AS max FROM items');
    assert.deepEqual(r, { n: '150', max: 150 }, 'rows committed before T, none after');
  } finally {
    await c.end();
  }

  // Retention: with one full backup kept, a new full backup expires the older full and its incremental.
  const third = okJson<{ type: string; backups: number }>(await pgpress({ ...env, BACKUP_RETENTION_FULL: '1' }, ['backup', '--type', 'full', '--json']));
  assert.deepEqual([third.type, third.backups], ['full', 1]);
});
