// The commands end to end through bin/pgpress.js on a server given by DATABASE_URL: `backup`
// configures archiving and asks the operator for the restart archive_mode needs; bad input is named.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgOwner } from '../../src/backup/pgBinaries.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';
import { lastJson, runCli, type CliRun } from '../harness/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'pgpress-backup-cli-'));
chmodSync(work, 0o755); // the postgres OS user must reach the folders below
const owner = pgOwner();
if (owner) chownSync(work, owner.uid, owner.gid);
let pgc: TestCluster | undefined;
after(async () => {
  await pgc?.destroy();
  rmSync(work, { recursive: true, force: true });
});

const pgpress = (env: Record<string, string>, args: string[]): Promise<CliRun> => runCli(args, env, ['DATABASE_URL', 'BACKUP_DIR']);

test('server: backup configures archiving and asks for a restart; after it, backup and a bad --to', async () => {
  pgc = await startCluster();
  const env = { DATABASE_URL: pgc.primary.url, BACKUP_DIR: join(work, 'server-backups') };
  const first = await pgpress(env, ['backup']);
  assert.equal(first.code, 1);
  assert.match(first.stderr, /PGP_BACKUP_FAILED: WAL archiving into .* is now configured \(ALTER SYSTEM\).*restart the PostgreSQL server/);
  await pgc.primary.stop();
  await pgc.primary.start();
  const second = await pgpress(env, ['backup', '--json']);
  assert.equal(second.code, 0, second.stderr);
  const b1 = lastJson<{ id: string; files: number; startLsn: string }>(second.stdout);
  assert.ok(b1.files > 500);

  // Retention: with one backup kept, the next backup removes the first and the WAL before its own start.
  await pgc.primary.query('CREATE TABLE t AS SELECT generate_series(1, 1000) AS id');
  const third = await pgpress({ ...env, BACKUP_RETENTION_FULL: '1' }, ['backup', '--json']);
  assert.equal(third.code, 0, third.stderr);
  const b2 = lastJson<{ id: string; pruned: { removedBackups: string[]; removedWalFiles: number } }>(third.stdout);
  assert.deepEqual(b2.pruned.removedBackups, [b1.id]);
  assert.ok(b2.pruned.removedWalFiles >= 1, JSON.stringify(b2.pruned));
  assert.deepEqual(readdirSync(join(env.BACKUP_DIR, 'base')), [b2.id]);
  const v = await pgpress(env, ['backup', 'verify', '--json']);
  assert.equal(lastJson<{ ok: boolean }>(v.stdout).ok, true, `the kept backup still verifies after pruning: ${v.stdout} ${v.stderr}`);

  const noDir = await pgpress({ DATABASE_URL: pgc.primary.url }, ['backup']);
  assert.match(noDir.stderr, /PGP_CONFIG_INVALID: BACKUP_DIR is not set/);
  const badTo = await pgpress(env, ['restore', '--to', '2026-12-01 10:00', '--target', join(work, 'x')]);
  assert.match(badTo.stderr, /PGP_VALIDATION: --to must be 'latest' or an ISO time with a zone/);
});
