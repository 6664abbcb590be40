// The package as an installed pgpress runs it, without packing: `tsc -p tsconfig.build.json` (emit
// only: lint type-checks) into a scratch folder laid out as the tarball is (dist/, bin/,
// migrations/, dashboard/, package.json; no src/, so bin/pgpress.js runs dist/ with no TypeScript
// loader) with the checkout's node_modules, and a smoke run of `pgpress bench <name>` from there.
// dist/ is compiled once per `npm test` run (in PGPRESS_TEST_RUN_DIR) and copied into each file's folder.
import { after, before, type TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { shippedScenarios } from '../../src/bench/registry.ts';
import { ADMIN_URL } from '../harness/services.ts';
import { smokeRun } from './smokeCases.ts';

const root = new URL('../..', import.meta.url).pathname;

/** Named-only scenarios that start PostgreSQL servers of their own: smokeCompiled.test.ts runs
 *  them, smokeCompiledServices.test.ts the rest (two files, each within the runner's 300 s). */
export const STARTS_SERVERS: readonly string[] = ['replicas', 'tune'];

/** The shipped scenarios that run only when named (the default ones: smokeShipped*.test.ts). */
export const namedOnly: string[] = Object.entries(shippedScenarios).filter(([, s]) => s.onlyWhenNamed !== undefined).map(([, s]) => s.name);

async function compile(outDir: string): Promise<void> {
  const args = ['-p', join(root, 'tsconfig.build.json'), '--outDir', outDir, '--declaration', 'false', '--noCheck'];
  await promisify(execFile)(join(root, 'node_modules/.bin/tsc'), args, { cwd: root, timeout: 120_000 });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The checkout compiled once for the run: the first file to ask builds it (taking a lock folder),
 *  the others wait for it (tsc: ~18 s of CPU, over 100 s of wall time on a loaded machine). */
async function runDist(runDir: string): Promise<string> {
  const out = join(runDir, 'compiled-dist');
  const lock = `${out}.building`;
  const failed = join(lock, 'error');
  try {
    mkdirSync(lock);
  } catch {
    const end = Date.now() + 240_000;
    while (Date.now() < end) {
      if (existsSync(out)) return out;
      if (existsSync(failed)) throw new Error(`the run's compile (by another test file) failed: ${readFileSync(failed, 'utf8')}`);
      await sleep(250);
    }
    throw new Error(`no compiled dist/ in ${out} after 240 s: the file compiling it for the run is stuck or gone`);
  }
  try {
    await compile(`${out}.tmp`);
    renameSync(`${out}.tmp`, out); // whole or absent: a waiter never copies half a build
    return out;
  } catch (e) {
    writeFileSync(failed, (e as Error).message);
    throw e;
  }
}

/** Builds the compiled package before the file's tests (removed after them); returns its folder. */
export function compiledPackage(): string {
  const pkg = mkdtempSync(join(tmpdir(), 'pgpress-compiled-'));
  after(() => rmSync(pkg, { recursive: true, force: true }));
  before(async () => {
    for (const f of ['bin', 'migrations', 'dashboard', 'package.json']) cpSync(join(root, f), join(pkg, f), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
    const runDir = process.env.PGPRESS_TEST_RUN_DIR;
    if (runDir) cpSync(await runDist(runDir), join(pkg, 'dist'), { recursive: true });
    else await compile(join(pkg, 'dist'));
  });
  return pkg;
}

/** The environment of a user's shell: none of npm test's npm_* variables, no pgpress settings of ours
 *  (nor the run's initdb template: an installed pgpress's clusters run initdb). */
function userEnv(pkg: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('npm_') && !['DATABASE_URL', 'MIGRATIONS_DIR', 'PGPRESS_DATA_DIR', 'NODE_OPTIONS', 'PGPRESS_CLUSTER_TEMPLATE'].includes(k)) env[k] = v;
  }
  return { ...env, BENCH_DATABASE_URL: ADMIN_URL, PGPRESS_DATA_DIR: join(pkg, '.pgpress') };
}

/** `pgpress bench name` from the compiled package at the tiny scale, checked against its floors. */
export function compiledSmoke(pkg: string, name: string, t: TestContext): Promise<void> {
  return smokeRun(name, t, { bin: join(pkg, 'bin/pgpress.js'), cwd: pkg, baseEnv: userEnv(pkg), args: ['--out', join(pkg, 'bench-results'), '--no-png'] });
}
