// `pgpress doctor` prints the health figures /metrics serves: a terminal table, or JSON with --json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testDatabase } from '../harness/testDatabase.ts';

const { url } = await testDatabase();
const env = { ...process.env, DATABASE_URL: url, MIGRATIONS_DIR: 'migrations', LOG_LEVEL: 'silent' };
const doctor = (args: string[]): Promise<{ stdout: string }> => promisify(execFile)(process.execPath, ['bin/pgpress.js', 'doctor', ...args], { env });

test('doctor --json: readiness, targets and every collector\'s figures in one object', async () => {
  const out = JSON.parse((await doctor(['--json'])).stdout) as {
    ready: boolean; figures: { metric: string; labels: Record<string, string>; value: number }[]; collectors: Record<string, boolean>;
  };
  assert.equal(out.ready, true);
  for (const c of ['database', 'activity', 'tables', 'indexes', 'replication', 'wal', 'matviews', 'partitions', 'audit', 'statements']) assert.equal(out.collectors[c], true, c);
  const metrics = new Set(out.figures.map((f) => f.metric));
  for (const m of ['pgpress_pg_transactions_total', 'pgpress_pg_buffer_hit_ratio', 'pgpress_pg_connections', 'pgpress_pg_table_dead_tuples', 'pgpress_partitions_ahead', 'pgpress_audit_missing_rows', 'pgpress_matview_pending_changes']) {
    assert.ok(metrics.has(m), m);
  }
  assert.ok(out.figures.some((f) => f.metric === 'pgpress_pg_connections' && f.labels.state === 'active' && f.value >= 1), 'its own connection is active');
  assert.doesNotMatch(JSON.stringify(out), /postgres:\/\/[^@"]*:[^@"*]+@/, 'no password');
});

test('doctor: the same figures as an aligned table after the readiness lines', async () => {
  const { stdout } = await doctor([]);
  const lines = stdout.split('\n');
  const header = lines.findIndex((l) => /^metric\s+labels\s+value$/.test(l));
  assert.ok(header > 0, stdout);
  assert.ok(lines.some((l) => /^pgpress_pg_transactions_total\s+result=commit\s+\d+$/.test(l)), stdout);
  assert.ok(lines.some((l) => /^pgpress_audit_missing_rows\s+table=users\s+0$/.test(l)), stdout);
  assert.equal(lines.filter((l) => l !== '').at(-1), 'ready');
});
