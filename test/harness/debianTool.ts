// A Debian-packaged tool the tests need (promtool, prometheus, chromium): found where Debian puts
// it, installed with apt-get when the test command runs as root, otherwise named in the one command
// to run. The same decision as test/harness/pgbouncer.ts, for any package.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** A binary and the Debian package that provides it. */
export interface DebianTool {
  /** The command's name, looked up on PATH after the candidates. */
  command: string;
  /** Where the package installs it. */
  candidates: string[];
  /** The Debian package name. */
  pkg: string;
  /** Which tests need it, for the message. */
  neededBy: string;
}

/** Path of the tool's binary, or undefined when it is not installed. */
export function findTool(t: DebianTool): string | undefined {
  for (const p of t.candidates) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', `command -v ${t.command}`], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  return found === '' ? undefined : found;
}

function aptGet(args: string[]): boolean {
  // Another test file may be installing at the same moment: wait for dpkg's lock instead of failing.
  const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

/** What to do about a tool on this machine: a pure decision, so it is unit-tested. */
export type ToolPlan = { action: 'use'; path: string } | { action: 'install' } | { action: 'stop'; message: string };

/** Use it when found; install it as root with apt-get; otherwise stop with the one command to run. */
export function planTool(t: DebianTool, found: string | undefined, isRoot: boolean, hasAptGet: boolean): ToolPlan {
  if (found !== undefined) return { action: 'use', path: found };
  if (isRoot && hasAptGet) return { action: 'install' };
  const how = hasAptGet ? `sudo apt-get install -y --no-install-recommends ${t.pkg}` : `install the ${t.pkg} package with your package manager (${t.command} must be on PATH)`;
  return { action: 'stop', message: `${t.command} is not installed and ${t.neededBy} need it. Run: ${how}` };
}

/** Returns the tool's binary, installing its package first when it can; throws with the command to run otherwise. */
export function ensureTool(t: DebianTool): string {
  const hasAptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  const plan = planTool(t, findTool(t), process.getuid?.() === 0, hasAptGet);
  if (plan.action === 'use') return plan.path;
  if (plan.action === 'stop') throw new Error(plan.message);
  const install = `sudo apt-get install -y --no-install-recommends ${t.pkg}`;
  process.stderr.write(`test setup: ${t.command} is not installed; installing ${t.pkg} with apt-get\n`);
  const args = ['install', '-y', '--no-install-recommends', t.pkg];
  // A fresh image may have no package lists yet: update them only when the install needs it.
  const installed = aptGet(args) || (aptGet(['update']) && aptGet(args));
  const path = findTool(t);
  if (!installed || path === undefined) throw new Error(`Installing ${t.pkg} failed (see apt-get's output above). Run: ${install}`);
  return path;
}
