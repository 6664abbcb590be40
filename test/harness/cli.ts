// Runs the pgpress CLI of this checkout as a child process, as a user would.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

/** What a CLI run printed and how it ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pgpress args…` with the test's environment plus env; `unset` names variables the run must not inherit. */
export function runCli(args: readonly string[], env: Record<string, string> = {}, unset: readonly string[] = []): Promise<CliRun> {
  const base = { ...process.env };
  for (const name of unset) delete base[name];
  return new Promise((ok) => {
    const child = spawn(process.execPath, [join(root, 'bin/pgpress.js'), ...args], { cwd: root, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

/** The last line of a run's output parsed as JSON (a `--json` summary). */
export function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

/** The `--json` summary of a run that must have succeeded (else fails showing its output). */
export function okJson<T>(run: CliRun): T {
  if (run.code !== 0) throw new Error(`pgpress exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  return lastJson<T>(run.stdout);
}
