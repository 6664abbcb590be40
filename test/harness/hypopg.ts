// HypoPG for the tuning tests: the extension's files are looked for where Debian installs them for
// the server's major version, installed with apt-get when the test command runs as root (the
// pattern of pgbouncer.ts), otherwise the test fails naming the one command to run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hypopgPackage } from '../../src/bench/hypopg.ts';

export { hypopgPackage };

/** True when CREATE EXTENSION hypopg can work on a server of that major version. */
export function hypopgInstalled(major: number): boolean {
  return existsSync(`/usr/share/postgresql/${major}/extension/hypopg.control`);
}

function aptGet(args: string[]): boolean {
  // Output goes to stderr: the test command's stdout carries the template database's name.
  const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

/** Makes sure HypoPG is installed for `major`, installing it when it can; throws with the command to run otherwise. */
export function ensureHypopg(major: number): void {
  if (hypopgInstalled(major)) return;
  const pkg = hypopgPackage(major);
  const install = `sudo apt-get install -y --no-install-recommends ${pkg}`;
  const hasAptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (process.getuid?.() !== 0 || !hasAptGet) throw new Error(`HypoPG is not installed and test/ops/tuning*.test.ts need it. Run: ${hasAptGet ? install : `install ${pkg}`}`);
  process.stderr.write(`test setup: HypoPG is not installed; installing ${pkg} with apt-get\n`);
  const args = ['install', '-y', '--no-install-recommends', pkg];
  // A fresh image may have no package lists yet: update them only when the install needs it.
  const ok = aptGet(args) || (aptGet(['update']) && aptGet(args));
  if (!ok || !hypopgInstalled(major)) throw new Error(`Installing ${pkg} failed (see apt-get's output above). Run: ${install}`);
}
