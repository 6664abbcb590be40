// The embedded default is least-privilege by construction: its URLs connect as pgpress_app (serve)
// and pgpress_owner (maintenance) with generated passwords kept in mode-600 files, and the
// passwords reach the server only as SCRAM verifiers (never in pg_stat_statements).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbedded } from '../../src/db/embeddedServer.ts';
import { migrate } from '../../src/migrate/index.ts';
import { freePort } from '../harness/freePort.ts';

const work = mkdtempSync(join(tmpdir(), 'pgpress-embedded-roles-'));
chmodSync(work, 0o755); // the postgres OS user must reach the data directory below
after(() => rmSync(work, { recursive: true, force: true }));

async function one<T extends object>(url: string, text: string, values: unknown[] = []): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows[0]!;
  } finally {
    await c.end();
  }
}

test('embedded: serve\'s URL is the app role, maintenance\'s the owner, passwords in mode-600 files and never in clear on the server', async () => {
  const dataDir = join(work, 'data');
  const server = await startEmbedded({ dataDir, port: await freePort() });
  try {
    await migrate({ url: server.adminUrl, dir: 'migrations' });
    for (const [url, role] of [[server.url, 'pgpress_app'], [server.ownerUrl, 'pgpress_owner']] as const) {
      const r = await one<{ who: string; su: boolean }>(url, 'SELECT current_user AS who, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su');
      assert.deepEqual(r, { who: role, su: false });
    }
    for (const f of ['app-password', 'owner-password', 'postgres-password']) {
      assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f);
    }
    // The app may write content, not the schema.
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    try {
      await c.query("INSERT INTO users (email, username, display_name) VALUES ('e@example.com', 'embedded_user', 'E')");
      await assert.rejects(c.query('CREATE TABLE public.nope (x int)'), (e: { code?: string }) => e.code === '42501');
    } finally {
      await c.end();
    }
    const app = readFileSync(join(dataDir, 'app-password'), 'utf8').trim();
    const owner = readFileSync(join(dataDir, 'owner-password'), 'utf8').trim();
    const statements = await one<{ n: number }>(server.adminUrl, 'SELECT count(*)::int AS n FROM pg_stat_statements WHERE strpos(query, $1) > 0 OR strpos(query, $2) > 0', [app, owner]);
    assert.equal(statements.n, 0, 'no generated password in pg_stat_statements');
    const stored = await one<{ v: string }>(server.adminUrl, "SELECT rolpassword AS v FROM pg_authid WHERE rolname = 'pgpress_app'");
    assert.match(stored.v, /^SCRAM-SHA-256\$4096:/);
  } finally {
    await server.stop();
  }
  // A restart keeps the same passwords (the files), and the URLs still connect.
  const again = await startEmbedded({ dataDir, port: await freePort() });
  try {
    assert.equal((await one<{ who: string }>(again.url, 'SELECT current_user AS who')).who, 'pgpress_app');
  } finally {
    await again.stop();
  }
});
