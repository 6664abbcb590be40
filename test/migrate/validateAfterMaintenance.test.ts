// `migrate validate` on a database that seeding and maintenance have worked on: month partitions,
// archived partitions and their indexes are the migrations' own shapes, not drift; a change by
// hand to a partitioned parent still is.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from '../../src/db/cluster.ts';
import { quoteIdent } from '../../src/db/sql.ts';
import { validateMigrations } from '../../src/migrate/index.ts';
import { maintainPartitions, type PartitionPolicy } from '../../src/ops/partitions/index.ts';
import { seed } from '../../src/ops/seed/seed.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { rows } from './helpers.ts';

const { url } = await testDatabase();
const cluster = new Cluster({ url, max: 2 });
after(() => cluster.close());

// The command itself, as an operator runs it: exit code 0 when valid, 2 when not.
async function cliValidate(): Promise<{ code: number; stdout: string }> {
  const env = { ...process.env, DATABASE_URL: url, MIGRATIONS_DIR: 'migrations', LOG_LEVEL: 'silent' };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/pgpress.js', 'migrate', 'validate'], { env });
    return { code: 0, stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? String(e) };
  }
}

const NOW = new Date();
const policy: PartitionPolicy = {
  // Keep 2 months of events: seeding spreads them over 3 months back, so the oldest retire (archived).
  monthsAhead: 2, retentionMonths: { article_events: 2, audit_log: 3 }, archive: true, batchRows: 500, lockTimeoutMs: 2000, now: NOW,
};

test('after seed and maintain (premake, retention, archive) validate reports no drift', async () => {
  await seed(cluster, { scale: 1, seed: 11, now: NOW });
  // Rows waiting in a default partition for a month that has none yet: maintenance moves them.
  await rows(url, "UPDATE users SET bio = 'moved' WHERE id IN (SELECT id FROM users ORDER BY id LIMIT 3)");
  const report = await maintainPartitions(cluster, policy);
  assert.ok(report.ran);
  const events = report.tables.find((t) => t.table === 'article_events')!;
  assert.ok(events.retired.length > 0, `a month was retired: ${JSON.stringify(report.tables)}`);
  assert.ok(events.created.length > 0 || (await rows(url, "SELECT 1 FROM pg_class WHERE relname ~ '^article_events_p[0-9]{4}_[0-9]{2}$'")).length > 0);
  const archived = await rows(url, "SELECT relname FROM pg_class WHERE relname LIKE '%\\_archived' AND relkind = 'r'");
  assert.ok(archived.length > 0, 'an archived partition is kept');
  const audit = await rows(url, "SELECT relname FROM pg_class WHERE relname ~ '^audit_log_p[0-9]{4}_[0-9]{2}$'");
  assert.ok(audit.length > 0, 'audit_log has month partitions');

  const r = await validateMigrations({ url, dir: 'migrations' });
  assert.equal(r.scratchError, null);
  assert.deepEqual(r.schema, [], 'no schema drift');
  assert.equal(r.ok, true);
  const cli = await cliValidate();
  assert.equal(cli.code, 0, cli.stdout);
  assert.match(cli.stdout, /^Valid: /m);
});

test('a column added by hand to a partitioned parent, and an index on one of its partitions, are still reported', async () => {
  await rows(url, 'ALTER TABLE article_events ADD COLUMN by_hand int');
  await rows(url, 'CREATE INDEX by_hand_on_default ON article_events_default (kind)');
  const [month] = await rows<{ relname: string }>(url, "SELECT relname FROM pg_class WHERE relname ~ '^article_events_p[0-9]{4}_[0-9]{2}$' ORDER BY 1 LIMIT 1");
  await rows(url, `CREATE INDEX by_hand_on_month ON ${quoteIdent(month!.relname)} (kind)`);
  const r = await validateMigrations({ url, dir: 'migrations' });
  assert.equal(r.ok, false);
  const columns = r.schema.find((d) => d.section === 'columns');
  assert.ok(columns, JSON.stringify(r.schema));
  assert.match(columns.extra.join('\n'), /public\.article_events #\d+ by_hand integer/);
  const indexes = r.schema.find((d) => d.section === 'indexes');
  assert.ok(indexes, JSON.stringify(r.schema));
  assert.match(indexes.extra.join('\n'), /by_hand_on_default/);
  const partitions = r.schema.find((d) => d.section === 'partitions');
  assert.ok(partitions, JSON.stringify(r.schema));
  const cli = await cliValidate();
  assert.equal(cli.code, 2, cli.stdout);
  assert.match(cli.stdout, /by_hand_on_month/);
  assert.deepEqual(partitions.extra, [`public.${month!.relname} (month partition of article_events) has index USING btree (kind) valid=t (by_hand_on_month)`]);
});
