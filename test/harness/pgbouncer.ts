// PgBouncer for the tests that need it: found where Debian installs it, installed with apt-get
// when the test command runs as root, otherwise named in one command to run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs, { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import pathMod from 'node:path';
import { freePort } from './freePort.ts';

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

/** A running PgBouncer: its port, and stop() (SIGTERM, then the folder removed). */
export interface RunningPgbouncer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts PgBouncer on a free port in front of 127.0.0.1:pgPort (every database), trust auth for
 * `users`, in `poolMode` with `poolSize` server connections per database/user pair. Run as the
 * postgres OS user when the tests run as root (PgBouncer refuses root).
 */
export async function startPgbouncer(opts: { pgPort: number; users: readonly string[]; poolMode?: 'transaction' | 'session'; poolSize?: number }): Promise<RunningPgbouncer> {
  const binary = ensurePgbouncer();
  const dir = fs.mkdtempSync(pathMod.join(os.tmpdir(), 'pgpress-pgbouncer-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  const uid = asRoot ? id('-u') : undefined;
  const gid = asRoot ? id('-g') : undefined;
  const log = pathMod.join(dir, 'pgbouncer.log');
  fs.writeFileSync(pathMod.join(dir, 'userlist.txt'), opts.users.map((u) => `"${u}" ""\n`).join(''));
  fs.writeFileSync(
    pathMod.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=127.0.0.1 port=${opts.pgPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${pathMod.join(dir, 'userlist.txt')}`,
      `pool_mode = ${opts.poolMode ?? 'transaction'}`,
      `default_pool_size = ${opts.poolSize ?? 1}`,
      'max_client_conn = 50',
      // node-postgres sends statement_timeout as a startup parameter; PgBouncer cannot pass it on.
      'ignore_startup_parameters = extra_float_digits,statement_timeout',
      `logfile = ${log}`,
      '',
    ].join('\n'),
  );
  if (uid !== undefined && gid !== undefined) for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) fs.chownSync(pathMod.join(dir, f), uid, gid);
  const child = spawn(binary, [pathMod.join(dir, 'pgbouncer.ini')], { stdio: 'ignore', uid, gid });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return { port, stop };
    if (Date.now() > end || child.exitCode !== null) {
      const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '(no log)';
      await stop();
      throw new Error(`pgbouncer did not start:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
