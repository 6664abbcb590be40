// Brings up the local PostgreSQL and Redis the tests default to when they are down and this
// machine can start them (Debian's pg_ctlcluster as root; redis-server as anyone). Anything it
// cannot start is left to assertServices, which stops with the command to run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Does anything accept TCP connections on host:port? */
export function listening(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect({ host, port });
    const done = (v: boolean): void => {
      s.destroy();
      ok(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function waitListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await listening(host, port, 500)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function local(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Starts the newest Debian PostgreSQL cluster when the URL is local, down, and we are root. */
export async function bringUpPostgres(adminUrl: string): Promise<void> {
  const u = new URL(adminUrl);
  const port = Number(u.port || 5432);
  if (!local(u) || (await listening('127.0.0.1', port))) return;
  if (process.getuid?.() !== 0 || !has('pg_ctlcluster')) return;
  let versions: string[];
  try {
    versions = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b));
  } catch {
    return;
  }
  const version = versions.at(-1);
  if (version === undefined) return;
  process.stderr.write(`test setup: PostgreSQL is down; starting cluster ${version}/main\n`);
  spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: ['ignore', 2, 2] });
  await waitListening('127.0.0.1', port, 30_000);
}

/** Starts redis-server (no persistence) on the URL's port when the URL is local and down. */
export async function bringUpRedis(redisUrl: string): Promise<void> {
  const u = new URL(redisUrl);
  const port = Number(u.port || 6379);
  if (!local(u) || (await listening('127.0.0.1', port))) return;
  if (!has('redis-server')) return;
  const dir = join(tmpdir(), `pgpress-test-redis-${port}`);
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`test setup: Redis is down; starting redis-server on port ${port}\n`);
  spawnSync(
    'redis-server',
    ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, 'redis.log')],
    { stdio: ['ignore', 2, 2] },
  );
  await waitListening('127.0.0.1', port, 30_000);
}
