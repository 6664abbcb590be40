// `pgpress scheduler` with the default jobs as a real process: each job runs once and is recorded
// with its outcome; `pgpress jobs --json` lists them; SIGTERM stops it cleanly and frees the lock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import type { JobStatus } from '../../src/ops/scheduler/index.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { url } = await testDatabase();
const admin = new pg.Client({ connectionString: url });
admin.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await admin.connect();
after(() => admin.end());
const env = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent', SCHEDULER_POLL_MS: '100' };
const JOBS = ['idempotency_keys', 'matviews', 'partitions', 'reindex', 'source_changes', 'vacuum'];

test('pgpress scheduler runs every default job once, pgpress jobs lists them, SIGTERM stops it and frees the lock', async () => {
  const child = spawn(process.execPath, ['bin/pgpress.js', 'scheduler'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  after(() => {
    child.kill('SIGKILL');
    return exited;
  });
  const end = Date.now() + 40_000;
  for (;;) {
    const { rows } = await admin.query<{ job: string }>("SELECT DISTINCT job FROM pgpress_job_runs WHERE outcome <> 'running' ORDER BY job");
    if (rows.length === JOBS.length) break;
    assert.ok(Date.now() < end, `jobs finished: ${rows.map((r) => r.job).join(', ')}; stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/pgpress.js', 'jobs', '--json'], { env });
  const status = JSON.parse(stdout) as JobStatus[];
  assert.deepEqual(status.map((s) => s.job).sort(), JOBS);
  for (const s of status) {
    assert.equal(s.lastRuns.length, 1, `${s.job} ran once (intervals are minutes to a day)`);
    assert.equal(s.lastRuns[0]!.outcome, 'ok', `${s.job}: ${s.lastRuns[0]!.error}`);
    assert.ok(s.intervalSeconds! >= 300);
    assert.equal(s.failures7d, 0);
    assert.ok(s.lastSuccessAt);
  }
  const partitions = status.find((s) => s.job === 'partitions')!;
  assert.ok(Array.isArray(partitions.lastRuns[0]!.changes.tables), JSON.stringify(partitions.lastRuns[0]!.changes));

  const t0 = Date.now();
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.ok(Date.now() - t0 < 10_000);
  const { rows } = await admin.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
  assert.equal(rows.length, 0, 'no advisory lock left behind');
});
