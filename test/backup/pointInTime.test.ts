// Built-in backup and point-in-time restore on a real throwaway server: rows committed before T
// come back, rows committed after T do not; 'latest' replays everything archived.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pgOwner } from '../../src/backup/pgBinaries.ts';
import { archiveSettings, restoreBackup, takeBackup, waitForArchived, type RestoredServer } from '../../src/backup/index.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { freePort } from '../harness/freePort.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster | undefined;
const restored: RestoredServer[] = [];
const work = mkdtempSync(join(tmpdir(), 'pgpress-backup-test-'));
const owner = pgOwner();
if (owner) chownSync(work, owner.uid, owner.gid);
after(async () => {
  for (const r of restored) await r.stop().catch(() => undefined);
  await pgc?.destroy();
  rmSync(work, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ids(url: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ id: number }>('SELECT id FROM items ORDER BY id')).rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

test('restore to T keeps every row committed before T and none after; latest keeps all', async () => {
  const backupDir = join(work, 'backups');
  pgc = await startCluster({ settings: archiveSettings(backupDir) });
  const url = pgc.primary.url;
  await pgc.primary.query('CREATE TABLE items (id int PRIMARY KEY, note text)');
  await pgc.primary.query("INSERT INTO items SELECT g, 'before backup' FROM generate_series(1, 100) g");

  let progressCalls = 0;
  const summary = await takeBackup({ databaseUrl: url, backupDir, onProgress: () => progressCalls++ });
  assert.ok(summary.files > 500 && summary.bytes > 1_000_000, `a whole data directory was copied: ${JSON.stringify(summary)}`);
  assert.ok(progressCalls > 0, 'progress was reported');
  assert.ok(summary.tables >= 1 && summary.restorePoint, `figures recorded: ${JSON.stringify(summary)}`);

  for (let i = 101; i <= 150; i++) await pgc.primary.query("INSERT INTO items VALUES ($1, 'after backup, before T')", [i]);
  await sleep(50);
  const t = new Date();
  await sleep(50);
  for (let i = 151; i <= 200; i++) await pgc.primary.query("INSERT INTO items VALUES ($1, 'after T')", [i]);
  await waitForArchived(url);

  const toT = await restoreBackup({ backupDir, to: t, targetDir: join(work, 'at-t'), port: await freePort() });
  restored.push(toT);
  assert.equal(toT.backupId, summary.id);
  const atT = await ids(toT.url);
  assert.deepEqual(atT, Array.from({ length: 150 }, (_, i) => i + 1), 'rows 1..150 exactly');
  await toT.stop();

  const latest = await restoreBackup({ backupDir, to: 'latest', targetDir: join(work, 'latest'), port: await freePort() });
  restored.push(latest);
  assert.equal((await ids(latest.url)).length, 200, 'latest replays every archived commit');
  await latest.stop();

  // As root, PostgreSQL runs as the postgres OS user: a target it cannot reach is refused up front.
  if (owner) {
    const closed = join(work, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    await assert.rejects(restoreBackup({ backupDir, to: 'latest', targetDir: join(closed, 'x'), port: await freePort() }),
      (e) => isPgpressError(e) && e.code === 'PGP_RESTORE_FAILED' && e.message.includes(`cannot enter ${closed}`));
  }
});
