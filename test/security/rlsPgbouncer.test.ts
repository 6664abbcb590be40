// Row-level security through PgBouncer in transaction mode, one server connection: the context
// (pgpress.actor_id, pgpress.role) is SET LOCAL only, so a request that saw a draft never hands
// that sight to the next request served by the same server connection, whoever sends it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../../src/db/cluster.ts';
import { sql } from '../../src/db/sql.ts';
import { startPgbouncer, type RunningPgbouncer } from '../harness/pgbouncer.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { rlsFixture } from './rlsProbes.ts';

const db = await testDatabase();
const f = await rlsFixture(db.url);
let bouncer: RunningPgbouncer | undefined;
const clusters: Cluster[] = [];
after(async () => {
  for (const c of clusters) await c.close();
  await bouncer?.stop();
});

const seen = sql(
  'test.rlsBouncerSeen',
  "SELECT pg_backend_pid() AS pid, current_setting('pgpress.actor_id', true) AS actor, current_setting('pgpress.role', true) AS role, (SELECT count(*)::int FROM articles WHERE id = ANY($1)) AS hidden",
);

test('through PgBouncer (transaction mode, one server connection) no request inherits another\'s context', async () => {
  const port = new URL(db.appUrl).port || '5432';
  bouncer = await startPgbouncer({ pgPort: Number(port), users: ['pgpress_app'], poolMode: 'transaction', poolSize: 1 });
  const url = new URL(db.appUrl);
  url.port = String(bouncer.port);
  // Two independent clients (two app instances), each with its own connections to the bouncer.
  const a = new Cluster({ url: url.toString(), namedStatements: false, max: 2 });
  const b = new Cluster({ url: url.toString(), namedStatements: false, max: 2 });
  clusters.push(a, b);
  const hidden = [f.draft.id, f.archived.id];
  const pids = new Set<number>();
  const leaks: string[] = [];
  const rounds = 20;
  await Promise.all([
    (async () => {
      for (let i = 0; i < rounds; i++) {
        // Alice's request: her drafts are visible inside her transaction.
        const r = await a.tx((q) => q.query<{ pid: number; actor: string; role: string; hidden: number }>(seen, [hidden]), { actorId: String(f.alice), role: i % 2 ? 'author' : 'editor' });
        pids.add(r.value.rows[0]!.pid);
        if (r.value.rows[0]!.hidden !== 2) leaks.push(`alice saw ${r.value.rows[0]!.hidden} of her 2 hidden articles`);
      }
    })(),
    (async () => {
      for (let i = 0; i < rounds; i++) {
        // An anonymous request (no transaction, no context) and one by bob, interleaved with alice's.
        const anon = (await b.query<{ pid: number; actor: string | null; role: string | null; hidden: number }>(seen, [hidden])).rows[0]!;
        pids.add(anon.pid);
        if (anon.hidden !== 0 || (anon.actor ?? '') !== '' || (anon.role ?? '') !== '') leaks.push(`anonymous: ${JSON.stringify(anon)}`);
        const bob = await b.tx((q) => q.query<{ actor: string; role: string; hidden: number }>(seen, [hidden]), { actorId: String(f.bob), role: 'author' });
        const row = bob.value.rows[0]!;
        if (row.hidden !== 0 || row.actor !== String(f.bob) || row.role !== 'author') leaks.push(`bob: ${JSON.stringify(row)}`);
      }
    })(),
  ]);
  assert.deepEqual(leaks, []);
  assert.equal(pids.size, 1, 'every request ran on the one server connection behind the bouncer');
});
