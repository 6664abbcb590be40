#!/usr/bin/env node
// The test entry point (`npm test`): checks the services, builds one migrated template
// database for the run, runs every test file in a process of its own (node's test runner in
// it, the spec reporter), then drops the template and anything this run left behind.
// Usage: npm test [-- file-or-substring ...]
//
// Files run TEST_CONCURRENCY (default 2) at a time, longest first (by the durations of the last
// runs: test/durations.json, committed, overlaid by this checkout's own record), so the lanes
// finish together instead of one slow file starting last. Each file's output is printed whole
// when it ends, under its name and time; a file still running after TEST_FILE_TIMEOUT_MS
// (default 300,000) is stopped (its process group: the CLI runs and servers it spawned) and fails.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
/** Committed durations (seconds per file) from a full run; refresh with `npm test` then copying the local record. */
const COMMITTED = join(root, 'test/durations.json');
/** This checkout's durations from its own runs (not committed: node_modules is ignored). */
const LOCAL = join(root, 'node_modules/.cache/pgpress-test-durations.json');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

function readDurations(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

const filters = process.argv.slice(2);
let files = findTests(join(root, 'test'));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ')}`);
  process.exit(1);
}
const concurrency = Math.max(1, Number(process.env.TEST_CONCURRENCY ?? '2') || 2);
const fileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT_MS ?? '300000') || 300_000;

// Longest first; a file with no recorded duration (a new one) first of all: it may be slow.
const known = { ...readDurations(COMMITTED), ...readDurations(LOCAL) };
const order = [...files].sort((a, b) => (known[b] ?? Infinity) - (known[a] ?? Infinity) || a.localeCompare(b));

// Services a file needs beyond PostgreSQL and Redis, by the words in its path.
const started = Date.now();
const needs = files.some((f) => f.includes('pgbouncer')) ? ['--pgbouncer'] : [];
// The run's initdb template (made by the setup below, removed by its teardown): every throwaway
// cluster's primary is a copy of it (src/bench/clusters.ts). Its folder's name is the one
// sweepStaleClusters knows, so a dead run's is swept by the next.
const clusterTemplate = join(tmpdir(), `pgpress-cluster-template-${process.pid}`, 'data');
process.env.PGPRESS_CLUSTER_TEMPLATE = clusterTemplate;
const setup = spawnSync(process.execPath, ['--import', 'tsx', 'test/harness/globalSetup.ts', 'setup', ...needs], {
  cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8',
});
if (setup.status !== 0) process.exit(setup.status ?? 1);
const template = setup.stdout.trim().split('\n').pop();
const setupSeconds = (Date.now() - started) / 1000;
// Scratch shared by the run's files (the compiled package of test/bench/compiledPackage.ts), removed at the end.
const runDir = mkdtempSync(join(tmpdir(), 'pgpress-test-run-'));

const running = new Set(); // child processes (each the leader of its process group)

/** CPU seconds of this process's reaped children (and theirs): /proc/self/stat cutime + cstime. */
function childrenCpu() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}
let cpuSeen = childrenCpu();
const results = []; // { file, seconds, code, tests, pass, fail, timedOut }

function stopGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // gone already
  }
}

/** Runs one file; resolves when its process group's leader has exited. */
function runFile(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    // Its own process group: a file that times out is stopped with the processes it spawned.
    const child = spawn(process.execPath, ['--import', 'tsx', '--test-reporter=spec', file], {
      cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PGPRESS_TEST_TEMPLATE: template, PGPRESS_TEST_RUN_DIR: runDir },
    });
    running.add(child);
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    let cpu = NaN;
    child.on('exit', () => {
      // The file's process was reaped just now: the growth is its CPU and its reaped children's
      // (servers it daemonised, such as throwaway clusters, aside).
      const now = childrenCpu();
      cpu = now - cpuSeen;
      cpuSeen = now;
      // A process the file left running may hold its output open: stop reading after a grace period.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, 5_000).unref();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup(child, 'SIGTERM');
      setTimeout(() => stopGroup(child, 'SIGKILL'), 10_000).unref();
    }, fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const seconds = (Date.now() - t0) / 1000;
      const out = Buffer.concat(chunks).toString();
      const count = (word) => Number(new RegExp(`^ℹ ${word} (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
      const ok = code === 0 && !timedOut;
      const r = { file, seconds, cpu, code: code ?? signal, tests: count('tests'), pass: count('pass'), fail: count('fail'), cancelled: count('cancelled'), timedOut, ok };
      results.push(r);
      const why = timedOut ? ` — TIMED OUT after ${fileTimeoutMs / 1000} s: stopped: the tests printed below finished, the next one in the file did not` : ok ? '' : ` — exit ${r.code}`;
      process.stdout.write(`\n${ok ? '▶' : '✖'} ${file} (${seconds.toFixed(1)} s, CPU ${cpu.toFixed(1)} s)${why}\n${out}`);
      resolve();
    });
  });
}

let aborted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    aborted = true;
    for (const child of running) stopGroup(child, 'SIGTERM');
  });
}

// The bench smoke files run one at a time, the other lane taking the next file that is not one:
// each runs scenarios that hold tens of connections, and two of them beside each other exhausted
// the server's max_connections (100: 'sorry, too many clients already' in the cluster scenario when
// longest-first put smoke.test.ts beside smokeShippedRest and smokeShipped).
const exclusive = (file) => file.startsWith('test/bench/smoke');
let exclusiveRun = null; // the running exclusive file's end, or null
const queue = [...order];
await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
  while (queue.length > 0 && !aborted) {
    const i = exclusiveRun ? queue.findIndex((f) => !exclusive(f)) : 0;
    if (i < 0) {
      await exclusiveRun;
      continue;
    }
    const [file] = queue.splice(i, 1);
    if (!exclusive(file)) {
      await runFile(file);
      continue;
    }
    exclusiveRun = runFile(file).then(() => {
      exclusiveRun = null;
    });
    await exclusiveRun;
  }
}));

spawnSync(process.execPath, ['--import', 'tsx', 'test/harness/globalSetup.ts', 'teardown', template], {
  cwd: root, stdio: 'inherit',
});
rmSync(runDir, { recursive: true, force: true });

// Durations of the files that ran to the end, for the next run's order.
const record = readDurations(LOCAL);
for (const r of results) if (!r.timedOut) record[r.file] = Math.round(r.seconds * 10) / 10;
try {
  mkdirSync(dirname(LOCAL), { recursive: true });
  writeFileSync(LOCAL, `${JSON.stringify(Object.fromEntries(Object.entries(record).sort()), null, 1)}\n`);
} catch {
  // a read-only checkout: the order just stays the committed one
}

const sum = (k) => results.reduce((s, r) => s + r[k], 0);
const failed = results.filter((r) => !r.ok);
const total = (Date.now() - started) / 1000;
const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 10);
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\nℹ files ${results.length} of ${files.length}, tests ${sum('tests')}, pass ${sum('pass')}, fail ${sum('fail')}, cancelled ${sum('cancelled')}; ` +
  `${total.toFixed(1)} s (template ${setupSeconds.toFixed(1)} s, ${concurrency} at a time, CPU of the files ${sum('cpu').toFixed(0)} s, load average ${load})`);
console.log(`ℹ slowest files: ${slowest.map((r) => `${r.file} ${r.seconds.toFixed(1)} s (CPU ${r.cpu.toFixed(1)})`).join(', ')}`);
if (failed.length > 0) console.log(`✖ failed files:\n${failed.map((r) => `  ${r.file}${r.timedOut ? ' (timed out)' : ` (exit ${r.code})`}`).join('\n')}`);
if (aborted) console.log('✖ interrupted: files not run were skipped');
process.exit(failed.length > 0 || aborted || results.length < files.length ? 1 : 0);
