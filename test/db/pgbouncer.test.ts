// Behind a real PgBouncer in transaction mode: with named statements off, a concurrent read/write
// workload through the Cluster runs without errors and request context (pgpress.actor_id, set
// only with SET LOCAL) never leaks from one request to another.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { Cluster } from '../../src/db/cluster.ts';
import { sql } from '../../src/db/sql.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';
import { freePort } from '../harness/freePort.ts';
import { findPgbouncer, INSTALL_COMMAND } from '../harness/pgbouncer.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';

let pgc: TestCluster | undefined;
let bouncer: ChildProcess | undefined;
let dir: string | undefined;
let c: Cluster | undefined;
after(async () => {
  await c?.close();
  if (bouncer?.pid !== undefined && bouncer.exitCode === null) {
    const exited = new Promise((r) => bouncer!.once('exit', r));
    bouncer.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  }
  await pgc?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function pgbouncerBinary(): string {
  const found = findPgbouncer();
  if (found === undefined) throw new Error(`pgbouncer is not installed: run this file with \`npm test\` (it installs PgBouncer as root) or \`${INSTALL_COMMAND}\``);
  return found;
}

// PgBouncer refuses to run as root: run it as the postgres user, as the harness runs PostgreSQL.
function owner(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function startBouncer(pgPort: number): Promise<number> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgpress-pgbouncer-'));
  const port = await freePort();
  const { uid, gid } = owner();
  fs.writeFileSync(path.join(dir, 'userlist.txt'), '"postgres" ""\n');
  fs.writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=127.0.0.1 port=${pgPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'default_pool_size = 3',
      'max_client_conn = 200',
      // node-postgres sends statement_timeout as a startup parameter; PgBouncer cannot pass it on.
      'ignore_startup_parameters = extra_float_digits,statement_timeout',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  if (uid !== undefined && gid !== undefined) for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) fs.chownSync(path.join(dir, f), uid, gid);
  bouncer = spawn(pgbouncerBinary(), [path.join(dir, 'pgbouncer.ini')], { stdio: 'ignore', uid, gid });
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return port;
    if (Date.now() > end || bouncer.exitCode !== null) {
      throw new Error(`pgbouncer did not start:\n${fs.existsSync(path.join(dir, 'pgbouncer.log')) ? fs.readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8') : '(no log)'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const insert = sql('test.bouncerInsert', "INSERT INTO notes (actor, seen) VALUES ($1, current_setting('pgpress.actor_id', true)) RETURNING id");
const actorNow = sql('test.bouncerActor', "SELECT current_setting('pgpress.actor_id', true) AS actor");
const byId = sql('test.bouncerById', 'SELECT actor, seen FROM notes WHERE id = $1');

test('a concurrent read/write workload through PgBouncer (transaction mode): no errors, no context leaking between requests', async () => {
  pgc = await startCluster();
  await pgc.primary.query('CREATE TABLE notes (id serial PRIMARY KEY, actor text NOT NULL, seen text)');
  const port = await startBouncer(pgc.primary.port);
  c = new Cluster({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, namedStatements: false, max: 8, metrics: createDbMetrics(new Registry()) });
  const cluster = c;
  const errors: string[] = [];
  const leaks: string[] = [];
  let writes = 0;
  let reads = 0;
  await Promise.all(
    Array.from({ length: 12 }, async (_, worker) => {
      for (let i = 0; i < 30; i++) {
        const actor = `actor-${worker}-${i}`;
        try {
          const { value } = await cluster.tx(
            async (q) => {
              const id = (await q.query<{ id: number }>(insert, [actor])).rows[0]!.id;
              const inside = (await q.query<{ actor: string }>(actorNow)).rows[0]!.actor;
              if (inside !== actor) leaks.push(`inside tx ${actor} saw ${inside}`);
              return id;
            },
            { actorId: actor },
          );
          writes++;
          // Outside any transaction no request context may be visible: SET LOCAL ended with COMMIT.
          const outside = (await cluster.query<{ actor: string | null }>(actorNow, [], { read: true })).rows[0]!.actor;
          if (outside !== null && outside !== '') leaks.push(`after ${actor} a plain read saw ${outside}`);
          const row = (await cluster.query<{ actor: string; seen: string }>(byId, [value], { read: true })).rows[0]!;
          if (row.seen !== row.actor) leaks.push(`row of ${row.actor} was written as ${row.seen}`);
          reads += 2;
        } catch (e) {
          errors.push(`${actor}: ${(e as Error).message}`);
        }
      }
    }),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(leaks, []);
  assert.equal(writes, 360);
  assert.equal(reads, 720);
  const [row] = await pgc.primary.query<{ n: number; wrong: number }>('SELECT count(*)::int AS n, count(*) FILTER (WHERE seen IS DISTINCT FROM actor)::int AS wrong FROM notes');
  assert.deepEqual(row, { n: 360, wrong: 0 });
});
