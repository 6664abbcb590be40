// End to end: `pgpress serve` with no DATABASE_URL runs on an embedded PostgreSQL, shuts down
// cleanly on SIGTERM, keeps its data across restarts, and refuses a second instance.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness/freePort.ts';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'pgpress-serve-'));
chmodSync(work, 0o755); // the postgres OS user must reach the data directory below
after(() => rmSync(work, { recursive: true, force: true }));

interface Serve {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function serve(env: Record<string, string>): Serve {
  const { DATABASE_URL: _ignored, ...base } = process.env;
  const child = spawn(process.execPath, [join(root, 'bin/pgpress.js'), 'serve'], {
    cwd: root,
    env: { ...base, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
    try {
      const [h, r] = await Promise.all([fetch(`${base}/healthz`), fetch(`${base}/readyz`)]);
      if (h.status === 200 && r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready after ${timeoutMs} ms:\n${s.output()}`);
}

async function postJson(url: string, body: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('serve starts an embedded PostgreSQL, survives SIGTERM and restart, and refuses a twin', async () => {
  const [port, pgPort, port2] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = { PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), PGPRESS_DATA_DIR: join(work, '.pgpress') };
  const base = `http://127.0.0.1:${port}`;

  const first = serve(env);
  await waitReady(base, first);
  const user = await postJson(`${base}/v1/users`, { email: 'e2e@example.com', username: 'e2e_user', displayName: 'E2E' });
  assert.equal(user.status, 201);
  const token = execFileSync(process.execPath, [join(root, 'bin/pgpress.js'), 'token', '--user', String(user.json.id)], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).trim();
  const article = await postJson(`${base}/v1/articles`, { title: 'Survives restarts', body: 'durable', status: 'published' }, token);
  assert.equal(article.status, 201);

  // A second instance on the same data directory fails with a clear message and harms nothing.
  const twin = serve({ ...env, PORT: String(port2) });
  assert.equal(await twin.exited, 1);
  assert.match(twin.output(), /PGP_EMBEDDED_START_FAILED: The data directory .* is in use by another pgpress \(pid \d+\)/);
  assert.equal((await fetch(`${base}/v1/articles/${article.json.id}`)).status, 200, 'the first instance still serves');

  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output());
  assert.match(first.output(), /stopping the embedded PostgreSQL/);
  assert.equal(existsSync(join(work, '.pgpress/pg/postmaster.pid')), false, 'PostgreSQL stopped cleanly');

  const second = serve(env);
  await waitReady(base, second);
  const again = await fetch(`${base}/v1/articles/${article.json.id}`);
  assert.equal(again.status, 200);
  assert.equal(((await again.json()) as { title: string }).title, 'Survives restarts');
  second.child.kill('SIGINT');
  assert.equal(await second.exited, 0, second.output());
});

test('a bad setting stops start-up with a message naming the variable', async () => {
  const s = serve({ PORT: 'not-a-port', PGPRESS_DATA_DIR: join(work, 'unused') });
  assert.equal(await s.exited, 1);
  assert.match(s.output(), /PGP_CONFIG_INVALID: Invalid configuration:\s+PORT="not-a-port": must be a whole number/);
});
