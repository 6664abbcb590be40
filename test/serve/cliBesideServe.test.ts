// The CLI beside a running `serve` on the embedded default: doctor, migrate status, seed and
// maintain attach to the PostgreSQL that serve holds (port and password from the data folder)
// instead of failing on the taken data directory; with no serve running they start their own.
// On a terminal serve logs readable lines; into a pipe, JSON lines.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness/freePort.ts';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/pgpress.js');
const work = mkdtempSync(join(tmpdir(), 'pgpress-cli-beside-'));
chmodSync(work, 0o755); // the postgres OS user must reach the data directory below
after(() => rmSync(work, { recursive: true, force: true }));

function baseEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...base } = process.env;
  return { ...base, ...env };
}

interface Serve {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `pgpress serve`; under a pseudo-terminal (script(1)) when tty, so its stdout is a TTY. */
function serve(env: Record<string, string>, tty = false): Serve {
  const command = tty ? ['script', ['-qefc', `${process.execPath} ${bin} serve`, '/dev/null']] as const : [process.execPath, [bin, 'serve']] as const;
  const child = spawn(command[0], [...command[1]], { cwd: root, env: baseEnv({ ...env, LOG_LEVEL: 'info' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  after(() => child.kill('SIGKILL'));
  return { child, output: () => out, exited };
}

async function waitReady(base: string, s: Serve, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (s.child.exitCode !== null) throw new Error(`serve exited early:\n${s.output()}`);
    const status = await fetch(`${base}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready after ${timeoutMs} ms:\n${s.output()}`);
}

function cli(args: string[], env: Record<string, string>): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env: baseEnv(env), encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('doctor, migrate status, seed and maintain run beside serve on its embedded PostgreSQL, and start their own when none runs', async () => {
  const [port, pgPort] = await Promise.all([freePort(), freePort()]);
  const env = { PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), PGPRESS_DATA_DIR: join(work, 'beside') };
  const base = `http://127.0.0.1:${port}`;
  const s = serve(env);
  await waitReady(base, s);

  const doctor = cli(['doctor'], env);
  assert.equal(doctor.status, 0, doctor.out);
  assert.match(doctor.out, /reachable: yes/);
  assert.match(doctor.out, /\nready\n/);
  const status = cli(['migrate', 'status'], env);
  assert.equal(status.status, 0, status.out);
  assert.match(status.out, /0001 {2}applied/);
  const seeded = cli(['seed', '--scale', '1'], env);
  assert.equal(seeded.status, 0, seeded.out);
  assert.match(seeded.out, /Seeded 100 users, 1000 articles/);
  const maintained = cli(['maintain'], env);
  assert.equal(maintained.status, 0, maintained.out);
  assert.doesNotMatch(`${doctor.out}${status.out}${seeded.out}${maintained.out}`, /PGP_EMBEDDED_START_FAILED/);

  // Same database as serve: what seed wrote, serve reads; and serve kept running throughout.
  const users = await fetch(`${base}/v1/users/100`);
  assert.equal(users.status, 200, 'serve sees the seeded users');
  assert.equal(s.child.exitCode, null, s.output());
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0, s.output());
  assert.equal(existsSync(join(work, 'beside/pg/postmaster.pid')), false, 'serve stopped its PostgreSQL');

  // No serve: the command starts the embedded server itself, and stops it after.
  const alone = cli(['migrate', 'status'], env);
  assert.equal(alone.status, 0, alone.out);
  assert.match(alone.out, /0001 {2}applied/);
  assert.equal(existsSync(join(work, 'beside/pg/postmaster.pid')), false, 'the command stopped the server it started');
});

test('serve logs readable lines on a terminal and JSON lines into a pipe', async () => {
  const [port, pgPort] = await Promise.all([freePort(), freePort()]);
  const env = { PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), PGPRESS_DATA_DIR: join(work, 'logs') };
  const onTty = serve(env, true);
  await waitReady(`http://127.0.0.1:${port}`, onTty);
  // script(1) stands between: signal serve itself, whose pid is the first line of the claim file.
  process.kill(Number(readFileSync(join(work, 'logs/serve.pid'), 'utf8').split('\n')[0]), 'SIGTERM');
  await onTty.exited;
  const line = onTty.output().split('\n').find((l) => l.includes('pgpress listening on'));
  assert.ok(line, onTty.output());
  assert.doesNotMatch(line, /^\s*\{/, 'not JSON on a terminal');
  assert.match(line, /INFO/);

  const piped = serve(env);
  await waitReady(`http://127.0.0.1:${port}`, piped);
  piped.child.kill('SIGTERM');
  assert.equal(await piped.exited, 0, piped.output());
  const json = piped.output().split('\n').find((l) => l.includes('pgpress listening on'));
  assert.ok(json, piped.output());
  assert.equal((JSON.parse(json) as { msg: string }).msg.startsWith('pgpress listening on'), true);
});
