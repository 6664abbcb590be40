// pgpress as a dependency, tried as a new user would: the packed tarball installs into an empty
// project, imports as a library with its types, and runs `pgpress migrate` and `pgpress serve`
// from there on the package's own migrations — compiled JavaScript, no TypeScript loader. Then
// `pgpress bench` from that install: --list, and a missing service's error. (The shipped scenarios
// run at a tiny scale in test/bench/: smokeShipped.test.ts, and smokeCompiled.test.ts from a
// compiled build — not here, where they would pass the runner's 300 s per file.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { shippedScenarios } from '../../src/bench/registry.ts';
import { freePort } from '../harness/freePort.ts';
import { ADMIN_URL } from '../harness/services.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'pgpress-package-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The project the first test installs pgpress into, for the bench tests after it. */
let installed: { project: string; bin: string } | undefined;
function installedProject(): { project: string; bin: string } {
  if (!installed) throw new Error('the first test did not install the package');
  return installed;
}

/** The environment of a user's shell: none of npm test's npm_* variables, no pgpress settings of ours. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('npm_') && !['DATABASE_URL', 'MIGRATIONS_DIR', 'PGPRESS_DATA_DIR', 'NODE_OPTIONS'].includes(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

async function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv({})): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
    return stdout;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${(e as Error).message}\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** Packs a copy of the checkout, so prepack's build never touches the working tree. */
async function pack(): Promise<{ tarball: string; files: string[] }> {
  const copy = join(work, 'checkout');
  const skip = new Set(['node_modules', '.git', '.pgpress', 'dist']);
  cpSync(root, copy, { recursive: true, filter: (p) => !skip.has(p.slice(root.length).split('/')[0] ?? '') });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const out = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', work], copy)) as [{ filename: string; files: { path: string }[] }];
  return { tarball: join(work, out[0].filename), files: out[0].files.map((f) => f.path) };
}

const CONSUMER_TS = `import { createStore, isPgpressError, migrate, PACKAGE_MIGRATIONS_DIR, sql, type Cluster, type Store, type User } from 'pgpress';
await migrate({ url: process.env.DATABASE_URL!, dir: PACKAGE_MIGRATIONS_DIR });
const store: Store = await createStore({ url: process.env.DATABASE_URL!, replicaUrls: [], pool: { max: 2 } });
const user: User = await store.users.create({ email: 'dep@example.com', username: 'dep_user', displayName: 'Dep' });
const n: number = user.id;
console.log(n, isPgpressError(new Error('plain')));
await store.close();
export async function one(c: Cluster): Promise<number> {
  const r = await c.query<{ n: number }>(sql('one', 'SELECT 1 AS n'));
  // @ts-expect-error QueryResult has no such field; were pg's types missing, r would be any and this line no error
  void r.noSuchField;
  return r.rows[0]!.n;
}
`;

const CONSUMER_MJS = `import { createStore, migrationStatus, PACKAGE_MIGRATIONS_DIR } from 'pgpress';
const store = await createStore({ url: process.env.DATABASE_URL, replicaUrls: [], pool: { max: 2 } });
const user = await store.users.create({ email: 'dep@example.com', username: 'dep_user', displayName: 'Dep' });
const states = await migrationStatus({ url: process.env.DATABASE_URL, dir: PACKAGE_MIGRATIONS_DIR });
console.log(JSON.stringify({ id: user.id, readiness: (await store.readiness()).ready, applied: states.filter((m) => m.state === 'applied').length }));
await store.close();
`;

async function serveUntilHealthy(project: string, env: NodeJS.ProcessEnv, port: number): Promise<{ health: number; ready: number; dashboard: number[]; code: number | null; output: string }> {
  const child = spawn(join(project, 'node_modules/.bin/pgpress'), ['serve'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`serve not healthy after 60 s:\n${output}`);
    const health = await fetch(`${base}/healthz`).then((r) => r.status, () => 0);
    if (health === 200) {
      const ready = (await fetch(`${base}/readyz`)).status;
      // The dashboard's static files ship in the package; uPlot resolves from the consumer's install.
      const dashboard = await Promise.all(['/dashboard', '/dashboard/app.js', '/dashboard/uPlot.iife.min.js'].map(async (u) => (await fetch(`${base}${u}`)).status));
      child.kill('SIGTERM');
      return { health, ready, dashboard, code: await exited, output };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('the packed tarball installs into an empty project, imports with its types, migrates and serves on its own migrations', async () => {
  const db = await testDatabase({ empty: true });
  const { tarball, files } = await pack();
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'bin/pgpress.js', 'migrations/0001_users.sql', 'README.md']) {
    assert.ok(files.includes(f), `the tarball ships ${f} (its folders: ${[...new Set(files.map((x) => x.split('/')[0]))].join(', ')})`);
  }
  assert.deepEqual(files.filter((f) => /^(src|test|bench|scripts|\.ci)\//.test(f)), [], 'no sources, tests or benchmarks in the tarball');

  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // Dependencies come from npm's cache (filled by the checkout's install); the registry only when missing.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
  assert.deepEqual(readdirSync(join(project, 'node_modules/pgpress')).sort(), ['README.md', 'bin', 'dashboard', 'dist', 'docs', 'migrations', 'package.json']);

  // Types: a consumer file checks against the shipped declarations (and their dependencies' types).
  writeFileSync(join(project, 'consumer.ts'), CONSUMER_TS);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        // skipLibCheck as most projects set it; consumer.ts itself fails if a dependency's types do not resolve.
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true,
        types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
      },
      files: ['consumer.ts'],
    }),
  );
  const typecheck = run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], project);

  const env = userEnv({ DATABASE_URL: db.url, PGPRESS_DATA_DIR: join(project, '.pgpress'), LOG_LEVEL: 'info' });
  const bin = join(project, 'node_modules/.bin/pgpress');
  installed = { project, bin: join(project, 'node_modules/pgpress/bin/pgpress.js') };
  const migrations = files.filter((f) => /^migrations\/\d{4,}_[a-z0-9_]+\.sql$/.test(f));
  const migrated = await run(bin, ['migrate'], project, env);
  assert.match(migrated, new RegExp(`Applied ${migrations.length} migration\\(s\\)`), migrated);
  const status = await run(bin, ['migrate', 'status'], project, env);
  assert.equal(status.trim().split('\n').filter((l) => / applied /.test(l)).length, migrations.length, status);

  writeFileSync(join(project, 'consumer.mjs'), CONSUMER_MJS);
  const imported = JSON.parse((await run(process.execPath, ['consumer.mjs'], project, env)).trim()) as { id: number; readiness: boolean; applied: number };
  assert.ok(imported.id > 0);
  assert.equal(imported.applied, migrations.length, 'PACKAGE_MIGRATIONS_DIR is the installed package\'s migrations folder');
  assert.equal(imported.readiness, true, 'the library reads the package migrations: the database is current');

  const port = await freePort();
  const served = await serveUntilHealthy(project, { ...env, PORT: String(port) }, port);
  assert.equal(served.health, 200);
  assert.equal(served.ready, 200, served.output);
  assert.deepEqual(served.dashboard, [200, 200, 200], 'GET /dashboard and its files answer from the installed package');
  assert.equal(served.code, 0, served.output);

  // A project's own migrations (MIGRATIONS_DIR) may have a TypeScript hook: the compiled CLI runs it.
  const own = join(project, 'migrations');
  cpSync(join(project, 'node_modules/pgpress/migrations'), own, { recursive: true });
  writeFileSync(join(own, '9000_note.sql'), 'CREATE TABLE IF NOT EXISTS dep_note (n int);');
  writeFileSync(
    join(own, '9000_note.hooks.ts'),
    "import type { HookContext } from 'pgpress';\nexport async function post(ctx: HookContext): Promise<void> {\n  const n: number = 42;\n  await ctx.query('INSERT INTO dep_note VALUES ($1)', [n]);\n}\n",
  );
  const ownRun = await run(bin, ['migrate'], project, { ...env, MIGRATIONS_DIR: own });
  assert.match(ownRun, /Applied 1 migration\(s\)/, ownRun);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    assert.deepEqual((await client.query('SELECT n FROM dep_note')).rows, [{ n: 42 }], 'the TypeScript hook ran');
  } finally {
    await client.end();
  }

  await typecheck;
});

/** The environment of `pgpress bench` in the installed project: scratch databases on the test server. */
function benchEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return userEnv({ BENCH_DATABASE_URL: ADMIN_URL, PGPRESS_DATA_DIR: join(installedProject().project, '.pgpress'), ...extra });
}

/** `pgpress bench args…` from the installed package; resolves with its exit code and output. */
function installedBench(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  const { project, bin } = installedProject();
  return new Promise((ok) => {
    execFile(process.execPath, [bin, 'bench', ...args], { cwd: project, env, encoding: 'utf8', timeout: 60_000 }, (e, out, err) => ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

test('`pgpress bench --list` of the installed package lists the shipped scenarios in order: which run by default, and what the others need', async () => {
  const { code, out, err } = await installedBench(['--list'], benchEnv());
  assert.equal(code, 0, err);
  const lines = out.trim().split('\n').map((l) => l.split(/\s+/));
  // The registry's scenarios, the first (later ones may follow), and none of the checkout's.
  assert.deepEqual(lines.map((l) => l[0]), Object.keys(shippedScenarios), out);
  assert.deepEqual(lines.slice(0, 8).map((l) => l[0]), ['baseline', 'load', 'stress', 'soak', 'write', 'replicas', 'cache', 'tune'], out);
  // The default run: the scenarios that need only the database; the heavy ones when named.
  const defaults = lines.filter((l) => l[1] === 'default').map((l) => l[0]);
  assert.deepEqual(defaults, Object.entries(shippedScenarios).filter(([, s]) => s.onlyWhenNamed === undefined).map(([n]) => n), out);
  assert.deepEqual(defaults.slice(0, 5), ['baseline', 'load', 'stress', 'soak', 'write'], out);
  assert.ok(['replicas', 'cache', 'tune'].every((n) => lines.some((l) => l[0] === n && l[1] === 'named')), out);
  assert.ok(lines.every((l) => l[1] === 'default' || l[1] === 'named'), out);
  assert.ok(out.split('\n').filter((l) => / named /.test(l)).every((l) => l.includes('[only when named: ')), out);
  assert.match(out, /^replicas .*\[only when named: .*postgresql-15/m);
  assert.match(out, /^cache .*\[only when named: needs Redis at REDIS_URL/m);
  assert.match(out, /^tune .*\[only when named: .*postgresql-15-hypopg/m);
});

test('a shipped scenario whose Redis or PostgreSQL programs are missing fails at once with its PGP code and what to install', async () => {
  const out = join(work, 'bench-missing');
  const redis = await installedBench(['cache', '--out', out, '--no-png'], benchEnv({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }));
  assert.equal(redis.code, 1, redis.out + redis.err);
  assert.match(redis.err, /pgpress: PGP_SERVICE_MISSING: Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer .*the cache scenario needs it\. Start Redis/, redis.err);
  const programs = await installedBench(['tune', '--out', out, '--no-png'], benchEnv({ PG_BINDIR: join(work, 'no-such-bindir') }));
  assert.equal(programs.code, 1, programs.out + programs.err);
  assert.match(programs.err, /pgpress: PGP_TOOL_MISSING: PostgreSQL's server programs \(initdb, pg_ctl, postgres\) are not installed .*apt-get install postgresql-15/, programs.err);
});
