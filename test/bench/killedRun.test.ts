// A benchmark run whose test process is killed leaves no server process and no database behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pidAlive } from '../../src/bench/clusters.ts';
import { ADMIN_URL } from '../harness/services.ts';
import { groupMembers, startBench, sweepablePrefix } from './benchProcess.ts';
import { ENV } from './smokeCases.ts';

async function until(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

async function databasesLike(prefix: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
    return rows.map((r) => r.datname);
  } finally {
    await c.end();
  }
}

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`${signal} to a test process running the api benchmark stops its servers and drops its database`, async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', 'test/bench/launchBench.ts', 'api'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    parent.stderr.on('data', (d: Buffer) => (out += d.toString())); // a killed run's complaints: shown only on failure
    const exited = new Promise((ok) => parent.once('exit', ok));
    let pgid = 0;
    let database = '';
    try {
      await until('the bench run to start its servers', 90_000, () => {
        pgid = Number(/bench pid (\d+)/.exec(out)?.[1] ?? 0);
        database = /database (\S+)/.exec(out)?.[1] ?? '';
        return pgid > 0 && database !== '' && groupMembers(pgid).length >= 3; // its database named, bench/run.ts and two of its servers
      });
    } catch (e) {
      parent.kill('SIGKILL');
      throw new Error(`${(e as Error).message}\n${out}`);
    }
    parent.kill(signal);
    await exited;
    await until('every process of the bench run to exit', 30_000, () => groupMembers(pgid).length === 0).catch((e: Error) => {
      const left = groupMembers(pgid);
      left.forEach((pid) => process.kill(pid, 'SIGKILL'));
      throw new Error(`${e.message}; still running: ${left.join(' ')}`);
    });
    assert.ok(database.startsWith(sweepablePrefix()), `the database is named for the harness's sweep: ${database}`);
    // SIGKILL: the run saw its IPC channel close; SIGTERM: the parent passed the signal on to the
    // run's group. Either way the run dropped its database itself.
    await until(`database ${database} to be dropped`, 30_000, async () => (await databasesLike(database)).length === 0);
  });
}

/** The throwaway cluster folders (src/bench/clusters.ts) that process pid started. */
function clusterDirsOf(pid: number): string[] {
  return readdirSync(tmpdir())
    .filter((d) => d.startsWith('pgpress-cluster-'))
    .map((d) => join(tmpdir(), d))
    .filter((d) => {
      try {
        return readFileSync(join(d, 'owner.pid'), 'utf8').trim() === String(pid);
      } catch {
        return false;
      }
    });
}

test('SIGTERM to a replicas bench run stops its throwaway cluster and removes its folder', async () => {
  const run = startBench(['replicas'], ENV);
  let root = '';
  try {
    await until('the run to start its primary', 120_000, () => {
      root = clusterDirsOf(run.pid)[0] ?? '';
      return root !== '' && existsSync(join(root, 'primary', 'postmaster.pid'));
    });
  } catch (e) {
    run.kill();
    throw new Error(`${(e as Error).message}\n${run.stdout()}`);
  }
  const postmaster = Number(readFileSync(join(root, 'primary', 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(run.pid, 'SIGTERM');
  const { code, stdout, stderr } = await run.done;
  assert.equal(code, 143, `the run ended by its SIGTERM handler\n${stdout}\n${stderr}`);
  assert.equal(existsSync(root), false, `${root} removed`);
  assert.equal(pidAlive(postmaster), false, 'the primary stopped');
});
