// `pgpress scheduler` (the scheduler without HTTP, a real process) on a plain streaming pair given
// as multi-host URLs (standby listed first): after the primary stops and the standby is promoted,
// its jobs run and are recorded as 'ok' on the promoted node without a restart. The leader lock
// already followed the primary; the job pool used to stay on the primary resolved at start, so each
// run was claimed on the new primary and then failed (left 'running') until a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { migrate } from '../../src/migrate/index.ts';
import { ROLES } from '../../src/security/roles.ts';
import { startCluster, type PgNode, type TestCluster } from '../harness/pgCluster.ts';

/** From pg_promote to the first 'ok' run on the promoted node: monitor probe + re-resolution + lock backoff + a 1 s interval. */
const FOLLOW_BOUND_MS = 30_000;
/** Until the first 'ok' run on the primary after the process starts (tsx start-up on a loaded machine). */
const START_BOUND_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let pgc: TestCluster;
let child: ChildProcess | undefined;
let exited: Promise<unknown> = Promise.resolve();
let stderr = '';

before(async () => {
  pgc = await startCluster({ replicas: 1 });
  // Migrations as the superuser (they create the pgpress roles); the scheduler as the roles (trust on loopback).
  await migrate({ url: pgc.primary.url, dir: 'migrations' });
  await pgc.waitForReplica(pgc.replicas[0]!);
});

after(async () => {
  child?.kill('SIGKILL');
  await exited;
  await pgc?.destroy();
});

/** Both nodes in one URL as role, the standby first: only the node that is primary may take writes. */
const multiHost = (role: string): string => `postgres://${role}@127.0.0.1:${pgc.replicas[0]!.port},127.0.0.1:${pgc.primary.port}/postgres`;

/** Polls node until the source_changes job has an 'ok' run that started at or after since; fails after boundMs. */
async function okRunOn(node: PgNode, since: Date, boundMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  let seen = '';
  for (;;) {
    const rows = await node
      .query<{ outcome: string; error: string | null; n: number }>(
        "SELECT outcome, coalesce(error, '') AS error, count(*)::int AS n FROM pgpress_job_runs WHERE job = 'source_changes' AND started_at >= $1 GROUP BY 1, 2 ORDER BY 1",
        [since],
      )
      .catch((e: Error) => [{ outcome: `query failed: ${e.message}`, error: null, n: 0 }]);
    if (rows.some((r) => r.outcome === 'ok')) return Date.now() - t0;
    seen = rows.map((r) => `${r.outcome} x${r.n}${r.error ? ` (${r.error})` : ''}`).join(', ') || 'none';
    if (child?.exitCode !== null) assert.fail(`pgpress scheduler exited ${child?.exitCode}: ${stderr}`);
    if (Date.now() - t0 > boundMs) assert.fail(`${what}: no 'ok' run within ${boundMs} ms; runs since: ${seen}; stderr: ${stderr.slice(-2000)}`);
    await sleep(200);
  }
}

test('pgpress scheduler on a multi-host owner URL runs its jobs on the promoted node after a failover, without a restart', async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: multiHost(ROLES.app),
    MIGRATION_DATABASE_URL: multiHost(ROLES.owner),
    PGPRESS_DATA_DIR: '/nonexistent-pgpress-scheduler-ha',
    LOG_LEVEL: 'warn',
    DB_REPLICA_MONITOR_INTERVAL_MS: '200',
    // One cheap job, due every second; the others off.
    SCHEDULER_POLL_MS: '200',
    JOB_SOURCE_CHANGES_INTERVAL_S: '1',
    JOB_PARTITIONS_INTERVAL_S: '0',
    JOB_MATVIEWS_INTERVAL_S: '0',
    JOB_VACUUM_INTERVAL_S: '0',
    JOB_REINDEX_INTERVAL_S: '0',
    JOB_IDEMPOTENCY_KEYS_INTERVAL_S: '0',
  };
  delete env.PATRONI_URLS;
  const started = new Date();
  child = spawn(process.execPath, ['bin/pgpress.js', 'scheduler'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  exited = new Promise((r) => child!.once('exit', r));

  await okRunOn(pgc.primary, started, START_BOUND_MS, 'before the failover, on the primary');

  await pgc.primary.stop('fast');
  const promoted = pgc.replicas[0]!;
  const { at } = (await promoted.query<{ at: Date }>('SELECT pg_promote(true, 30), clock_timestamp() AS at'))[0]!;
  const ms = await okRunOn(promoted, at, FOLLOW_BOUND_MS, 'after the promotion, on the promoted node');
  console.log(`pgpress scheduler: first 'ok' job run on the promoted node ${ms} ms after pg_promote returned`);

  child.kill('SIGTERM');
  const t0 = Date.now();
  const code = await Promise.race([exited, sleep(10_000).then(() => 'still running')]);
  assert.equal(code, 0, `SIGTERM: exited ${String(code)} after ${Date.now() - t0} ms; stderr: ${stderr.slice(-2000)}`);
});
