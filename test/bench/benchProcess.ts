// Starts `bench/run.ts` (or a `pgpress bench`) for the test suite so that a killed test leaves nothing behind: the run
// gets its own process group (it and the servers it starts) which this process kills when it exits
// or is signalled; the run also has an IPC channel, which closes when this process dies even by
// SIGKILL, and on which the run stops its servers and drops its database (bench/lifecycle.ts);
// and its databases are named pgpress_t_<runner pid>_bench_…, which the harness sweeps when the
// run that made them is gone (test/harness/globalSetup.ts).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A bench run in its own process group. */
export interface BenchRun {
  /** Pid of bench/run.ts, also its process group id. */
  readonly pid: number;
  /** Resolves when the run exits. */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Output so far. */
  stdout(): string;
  /** SIGKILLs the whole group (the run and its servers). */
  kill(): void;
}

/** The database-name prefix the harness's sweep recognises (pgpress_t_<runner pid>_). */
export function sweepablePrefix(): string {
  const runner = /^pgpress_t_(\d+)_/.exec(process.env.PGPRESS_TEST_TEMPLATE ?? '')?.[1];
  if (!runner) throw new Error('PGPRESS_TEST_TEMPLATE is not set: run the tests with `npm test`.');
  return `pgpress_t_${runner}_bench_`;
}

// Runs in flight: pid → resolves when the run has exited.
const running = new Map<number, Promise<unknown>>();
let handlersInstalled = false;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', () => running.forEach((_done, pid) => signalGroup(pid, 'SIGKILL')));
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      // SIGTERM first: the run stops its servers and drops its database; SIGKILL whatever is left.
      running.forEach((_done, pid) => signalGroup(pid, 'SIGTERM'));
      const grace = new Promise((ok) => setTimeout(ok, 8_000));
      void Promise.race([Promise.all(running.values()), grace]).then(() => process.exit(code));
    });
  }
}

/** How to start a run: the checkout's bench/run.ts (default), its `pgpress bench` (cli), or
 *  another pgpress's (bin: an installed package's bin/pgpress.js, run in cwd with baseEnv instead
 *  of ours); echo copies its output to ours as it comes. */
export interface StartOptions {
  echo?: boolean;
  cli?: boolean;
  bin?: string;
  cwd?: string;
  baseEnv?: NodeJS.ProcessEnv;
}

/** Runs `bench/run.ts scenarios…` (with `cli` or `bin`: `pgpress bench scenarios…`) with env added. */
export function startBench(scenarios: string[], env: Record<string, string>, opts: StartOptions = {}): BenchRun {
  installHandlers();
  const entry = opts.bin ? [opts.bin, 'bench'] : opts.cli ? ['bin/pgpress.js', 'bench'] : ['--import', 'tsx', 'bench/run.ts'];
  const child = spawn(process.execPath, [...entry, ...scenarios], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    // The checkout's runs clone the run's migrated template (BENCH_DATABASE_TEMPLATE) instead of
    // migrating an empty database; another pgpress (bin: an installed package) migrates its own, as a user's would.
    env: { ...(opts.baseEnv ?? process.env), BENCH_DATABASE_PREFIX: sweepablePrefix(), ...(opts.bin ? {} : { BENCH_DATABASE_TEMPLATE: process.env.PGPRESS_TEST_TEMPLATE! }), ...env },
  });
  const pid = child.pid!;
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (opts.echo) process.stdout.write(d);
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (opts.echo) process.stderr.write(d);
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((ok) => {
    child.once('close', (code, signal) => {
      signalGroup(pid, 'SIGKILL'); // anything of the group still running
      running.delete(pid);
      ok({ code, signal, stdout, stderr });
    });
  });
  running.set(pid, done);
  return { pid, done, stdout: () => stdout, kill: () => signalGroup(pid, 'SIGKILL') };
}

/** Pids of the processes in process group pgid (from /proc). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so split after ')'.
      const fields = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
