// PgBouncer for the tests that need it: found where Debian installs it, installed with apt-get
// when the test command runs as root, otherwise named in one command to run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's package puts the binary, then anywhere on PATH. */
const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'];

/** The command that installs it; also what a non-root user is told to run. */
export const INSTALL_COMMAND = 'sudo apt-get install -y pgbouncer';

/** Path of the pgbouncer binary, or undefined when it is not installed. */
export function findPgbouncer(): string | undefined {
  for (const p of CANDIDATES) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  return found === '' ? undefined : found;
}

/** What to do about PgBouncer on this machine: a pure decision, so it is unit-tested. */
export type PgbouncerPlan = { action: 'use'; path: string } | { action: 'install' } | { action: 'stop'; message: string };

/** Use it when found; install it as root with apt-get; otherwise stop with the one command to run. */
export function planPgbouncer(found: string | undefined, isRoot: boolean, hasAptGet: boolean): PgbouncerPlan {
  if (found !== undefined) return { action: 'use', path: found };
  if (isRoot && hasAptGet) return { action: 'install' };
  const how = hasAptGet ? INSTALL_COMMAND : 'install PgBouncer with your package manager (it must be on PATH or in /usr/sbin)';
  return { action: 'stop', message: `PgBouncer is not installed and the tests need it (test/db/pgbouncer.test.ts). Run: ${how}` };
}

function aptGet(args: string[]): boolean {
  // Output goes to stderr: the test command's stdout carries the template database's name.
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

/** Returns the pgbouncer binary, installing it first when it can; throws with the command to run otherwise. */
export function ensurePgbouncer(): string {
  const hasAptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  const plan = planPgbouncer(findPgbouncer(), process.getuid?.() === 0, hasAptGet);
  if (plan.action === 'use') return plan.path;
  if (plan.action === 'stop') throw new Error(plan.message);
  process.stderr.write('test setup: PgBouncer is not installed; installing it with apt-get\n');
  // A fresh image may have no package lists yet: update them only when the install needs it.
  const installed = aptGet(['install', '-y', '--no-install-recommends', 'pgbouncer']) || (aptGet(['update']) && aptGet(['install', '-y', '--no-install-recommends', 'pgbouncer']));
  const path = findPgbouncer();
  if (!installed || path === undefined) throw new Error(`Installing PgBouncer failed (see apt-get's output above). Run: ${INSTALL_COMMAND}`);
  return path;
}
