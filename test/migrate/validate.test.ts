// `migrate validate`: checks of applied migrations, tracking history, and hand-made schema drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, validateMigrations } from '../../src/migrate/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { migrationsDir, rows } from './helpers.ts';

const FILES = {
  '0001_a.sql': 'CREATE TABLE IF NOT EXISTS a (id int PRIMARY KEY, qty int NOT NULL DEFAULT 0);\nCREATE INDEX IF NOT EXISTS a_qty_idx ON a (qty);',
  '0001_a.check.sql': '-- quantities are never negative\nSELECT id, qty FROM a WHERE qty < 0;',
  '0002_b.sql': "ALTER TABLE a ADD COLUMN IF NOT EXISTS note text;\nDO $$ BEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'a_note_len') THEN\n    ALTER TABLE a ADD CONSTRAINT a_note_len CHECK (length(note) < 100);\n  END IF;\nEND $$;",
};

test('a database built by its migrations validates clean; pending migrations are not drift', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir(FILES);
  await migrate({ url: db.url, dir });
  writeFileSync(join(dir, '0003_pending.sql'), 'CREATE TABLE IF NOT EXISTS later (id int);');
  const report = await validateMigrations({ url: db.url, dir });
  assert.deepEqual(report, { ok: true, applied: 2, drift: [], failedChecks: [], schema: [], scratchError: null });
  const leftovers = await rows(db.url, "SELECT datname FROM pg_database WHERE datname LIKE '%\\_scratch\\_%' AND datname LIKE $1", [`${db.name}%`]);
  assert.deepEqual(leftovers, [], 'the scratch database is dropped');
});

test('schema changed by hand, failing checks and an edited history are all reported', async () => {
  const db = await testDatabase({ empty: true });
  const dir = migrationsDir(FILES);
  await migrate({ url: db.url, dir });
  await rows(db.url, 'CREATE INDEX by_hand ON a (note)');
  await rows(db.url, 'ALTER TABLE a ADD COLUMN extra int');
  await rows(db.url, 'ALTER TABLE a DROP CONSTRAINT a_note_len');
  await rows(db.url, 'GRANT SELECT ON a TO PUBLIC');
  await rows(db.url, 'CREATE FUNCTION hand_made() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$');
  await rows(db.url, 'INSERT INTO a (id, qty) VALUES (7, -1)');
  await rows(db.url, 'UPDATE pgpress_migrations SET duration_ms = duration_ms + 1 WHERE version = 1');

  const r = await validateMigrations({ url: db.url, dir });
  assert.equal(r.ok, false);
  const bySection = Object.fromEntries(r.schema.map((d) => [d.section, d]));
  assert.deepEqual(Object.keys(bySection).sort(), ['columns', 'constraints', 'functions', 'grants', 'indexes']);
  assert.match(bySection.indexes!.extra.join('\n'), /CREATE INDEX by_hand ON public\.a/);
  assert.match(bySection.columns!.extra.join('\n'), /public\.a #0004 extra integer/);
  assert.match(bySection.constraints!.missing.join('\n'), /a_note_len CHECK/);
  assert.match(bySection.grants!.extra.join('\n'), /public\.a .*=r\/postgres/);
  assert.match(bySection.functions!.extra.join('\n'), /public\.hand_made\(\)/);
  assert.equal(r.failedChecks.length, 1);
  assert.match(r.failedChecks[0]!.message, /Check 0001_a\.check\.sql \(check\) failed at line 2: 1 violating row\(s\), first \{"id":7,"qty":-1\}/);
  assert.deepEqual(r.drift.map((d) => [d.version, d.kind]), [[1, 'history']], 'the edited row, not the one linking to it');
});
