// What a result file says about where it was measured: the machine (cores, memory, load average),
// the versions (Node.js, PostgreSQL, pgpress), the BENCH_* settings and the git commit of a checkout.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The package root: this file is src/bench/runInfo.ts or dist/bench/runInfo.js. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The machine the run measured on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  /** 1, 5 and 15 minute load averages when the scenario started and ended. */
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

/** Versions of what was measured. */
export interface Versions {
  node: string;
  postgres: string;
  pgpress: string;
}

/** Cores, memory and the load average now (the end figure is filled in later). */
export function machineNow(): MachineInfo {
  const cpus = os.cpus();
  const load = os.loadavg().map((x) => Math.round(x * 100) / 100);
  return { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryBytes: os.totalmem(), loadAverageStart: load, loadAverageEnd: load };
}

/** The load average now, rounded. */
export function loadAverage(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

/** Node.js, the server's PostgreSQL and pgpress versions. */
export async function versions(adminUrl: string): Promise<Versions> {
  let postgres = 'unknown';
  const c = new pg.Client({ connectionString: adminUrl });
  c.on('error', () => undefined);
  try {
    await c.connect();
    postgres = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  } catch {
    // reported as unknown
  } finally {
    await c.end().catch(() => undefined);
  }
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
  return { node: process.version, postgres, pgpress: pkg.version };
}

/** The checkout's commit (with "-dirty" when it has uncommitted changes), or null outside a checkout. */
export function gitCommit(): string | null {
  if (!existsSync(`${ROOT}.git`)) return null;
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/** The settings that shape a run: every BENCH_* variable, and the pool and cache ones the servers read. */
export function benchSettings(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const keep = (k: string): boolean => k.startsWith('BENCH_') || ['DB_POOL_MAX', 'CACHE_ENABLED', 'SHED_EVENT_LOOP_DELAY_MS', 'RATE_LIMIT_MAX'].includes(k);
  // A URL may carry a password: the run names its server without it.
  const clean = (k: string, v: string): string => (/URL$/.test(k) ? v.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') : v);
  const kept = Object.keys(env).filter((k) => keep(k) && env[k] !== undefined).sort();
  return Object.fromEntries(kept.map((k) => [k, clean(k, env[k]!)]));
}
