// `backup verify` on a real backup taken under concurrent writes: the restored copy matches the
// figures recorded at the backup's restore point and passes amcheck; a flipped byte and a truncated
// file in the backup are detected and named.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdtempSync, openSync, readSync, rmSync, truncateSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { archiveSettings, takeBackup, verifyBackup } from '../../src/backup/index.ts';
import { pgOwner } from '../../src/backup/pgBinaries.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster | undefined;
const work = mkdtempSync(join(tmpdir(), 'pgpress-verify-test-'));
const owner = pgOwner();
if (owner) chownSync(work, owner.uid, owner.gid);
after(async () => {
  await pgc?.destroy();
  rmSync(work, { recursive: true, force: true });
});

test('verify passes a backup taken under writes, and names a flipped byte and a truncated file', async () => {
  const backupDir = join(work, 'backups');
  pgc = await startCluster({ settings: archiveSettings(backupDir) });
  const url = pgc.primary.url;
  await pgc.primary.query('CREATE TABLE items (id bigserial PRIMARY KEY, note text NOT NULL)');
  await pgc.primary.query('CREATE INDEX items_note ON items (note)');
  await pgc.primary.query("INSERT INTO items (note) SELECT 'seed ' || g FROM generate_series(1, 5000) g");

  // Writers keep committing while the backup copies files and takes its figures.
  const writer = new pg.Client({ connectionString: url });
  await writer.connect();
  let writing = true;
  let written = 0;
  const loop = (async () => {
    while (writing) {
      await writer.query("INSERT INTO items (note) VALUES ('during ' || clock_timestamp())");
      written++;
    }
  })();
  const summary = await takeBackup({ databaseUrl: url, backupDir });
  writing = false;
  await loop;
  await writer.end();
  assert.ok(written > 0, 'writes ran during the backup');
  assert.ok(summary.restorePoint && summary.tables === 1, `figures taken: ${JSON.stringify(summary)}`);

  const good = await verifyBackup({ backupDir });
  assert.deepEqual(good.problems, [], 'a good backup verifies');
  assert.equal(good.ok, true);
  assert.ok(good.indexesChecked >= 2, `amcheck ran on the btree indexes (${good.indexesChecked})`);
  const items = good.tables.find((t) => t.name === 'public.items');
  assert.ok(items?.ok && items.rows >= 5000, `items compared: ${JSON.stringify(items)}`);

  // Damage two files of the backup: one byte flipped in the table's heap, the index truncated.
  const [rel] = await pgc.primary.query<{ heap: string; idx: string }>(
    "SELECT pg_relation_filepath('items') AS heap, pg_relation_filepath('items_note') AS idx");
  const data = join(summary.dir, 'data');
  const heap = join(data, rel!.heap);
  const fd = openSync(heap, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 4000);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, 4000);
  closeSync(fd);
  truncateSync(join(data, rel!.idx), Math.floor(statSync(join(data, rel!.idx)).size / 2));

  const bad = await verifyBackup({ backupDir });
  assert.equal(bad.ok, false);
  assert.equal(bad.badFiles.length, 2, bad.badFiles.join('\n'));
  assert.match(bad.badFiles.join('\n'), new RegExp(`${rel!.heap} \\(changed`));
  assert.match(bad.badFiles.join('\n'), new RegExp(`${rel!.idx} \\(size \\d+, manifest says \\d+: truncated`));
});
