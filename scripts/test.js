#!/usr/bin/env node
// The test entry point (`npm test`): checks the services, builds one migrated template
// database for the run, runs every test file with node's test runner (one process per
// file), then drops the template and anything this run left behind.
// Usage: npm test [-- file-or-substring ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

const filters = process.argv.slice(2);
let files = findTests(join(root, 'test'));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ')}`);
  process.exit(1);
}

// Services a file needs beyond PostgreSQL and Redis, by the words in its path.
const needs = files.some((f) => f.includes('pgbouncer')) ? ['--pgbouncer'] : [];
const setup = spawnSync(process.execPath, ['--import', 'tsx', 'test/harness/globalSetup.ts', 'setup', ...needs], {
  cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8',
});
if (setup.status !== 0) process.exit(setup.status ?? 1);
const template = setup.stdout.trim().split('\n').pop();

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const run = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, '--test-timeout=300000',
  ...files,
], { cwd: root, stdio: 'inherit', env: { ...process.env, PGPRESS_TEST_TEMPLATE: template } });

spawnSync(process.execPath, ['--import', 'tsx', 'test/harness/globalSetup.ts', 'teardown', template], {
  cwd: root, stdio: 'inherit',
});
process.exit(run.status ?? 1);
