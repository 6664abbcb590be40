// The commands end to end through bin/pgpress.js on the embedded default: `backup` turns archiving
// on and restarts the embedded server itself; verify passes; restore leaves a serving copy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findProgram, pgOwner, runProgram } from '../../src/backup/pgBinaries.ts';
import { freePort } from '../harness/freePort.ts';
import { lastJson, runCli, type CliRun } from '../harness/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'pgpress-backup-cli-'));
chmodSync(work, 0o755); // the postgres OS user must reach the folders below
const owner = pgOwner();
if (owner) chownSync(work, owner.uid, owner.gid);
const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const stop of stops) await stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

const pgpress = (env: Record<string, string>, args: string[]): Promise<CliRun> => runCli(args, env, ['DATABASE_URL', 'BACKUP_DIR']);

test('embedded default: backup turns archiving on and restarts its server, verify passes, restore serves the data', async () => {
  const dataDir = join(work, 'embedded');
  const env = { PGPRESS_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) };
  const m = await pgpress(env, ['migrate']);
  assert.equal(m.code, 0, `migrate failed:\n${m.stderr}`);
  const b = await pgpress(env, ['backup', '--json']);
  assert.equal(b.code, 0, `backup failed:\n${b.stderr}`);
  assert.match(b.stderr, /archiving .* is now on; restarting the embedded PostgreSQL/);
  const summary = lastJson<{ backupDir: string; id: string; files: number; tables: number }>(b.stdout);
  assert.equal(summary.backupDir, join(dataDir, 'backups'));
  assert.ok(summary.files > 500 && summary.tables > 0, b.stdout);

  const v = await pgpress(env, ['backup', 'verify', '--json']);
  assert.equal(v.code, 0, `verify failed:\n${v.stdout}\n${v.stderr}`);
  const report = lastJson<{ ok: boolean; indexesChecked: number; tables: { ok: boolean }[] }>(v.stdout);
  assert.ok(report.ok && report.indexesChecked > 0 && report.tables.every((t) => t.ok), v.stdout);

  const port = await freePort();
  const target = join(work, 'restored');
  const r = await pgpress(env, ['restore', '--to', 'latest', '--target', target, '--port', String(port), '--json']);
  assert.equal(r.code, 0, `restore failed:\n${r.stderr}`);
  const pgCtl = findProgram('pg_ctl', readFileSync(join(target, 'PG_VERSION'), 'utf8').trim());
  stops.push(() => runProgram(pgCtl, ['stop', '-D', target, '-m', 'immediate']));
  const out = lastJson<{ backupId: string; port: number; indexesChecked: number }>(r.stdout);
  assert.equal(out.backupId, summary.id);
  assert.ok(out.indexesChecked > 100, `restore ran amcheck on the restored indexes: ${r.stdout}`);
  const password = readFileSync(join(dataDir, 'postgres-password'), 'utf8').trim();
  const c = new pg.Client({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/pgpress` });
  await c.connect();
  try {
    const { rows: [row] } = await c.query<{ rec: boolean; migrated: boolean }>("SELECT pg_is_in_recovery() AS rec, to_regclass('public.articles') IS NOT NULL AS migrated");
    assert.deepEqual(row, { rec: false, migrated: true }, 'the restored copy is promoted and has the migrated schema');
  } finally {
    await c.end();
  }
});
