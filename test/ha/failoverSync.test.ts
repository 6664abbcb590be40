// pgpress on a Patroni cluster in synchronous_mode, given only the multi-host DATABASE_URL: a kill -9
// of the leader's PostgreSQL under HTTP writes (Patroni promotes the synchronous standby; pgpress
// finds it and writes there; no acknowledged write is lost, no failed one committed), the old
// leader rejoining as a replica and serving reads again, read-your-writes tokens across the
// failover, then a switchover under load with clients that retry with an Idempotency-Key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ERROR_CATALOGUE } from '../../src/errors/catalogue.ts';
import { LSN_HEADER } from '../../src/http/app.ts';
import { sql } from '../../src/db/sql.ts';
import { inRotation } from '../harness/inRotation.ts';
import { OUTAGE_CODES, REJOIN_MS, startHaRig, underLoad, type HaRig, type LoadResult } from './failoverRig.ts';

let rig: HaRig;
let failover: LoadResult;
/** A comment written (and its token taken) on the old primary just before the kill. */
let before_: { id: number; token: string };

before(async () => {
  rig = await startHaRig({ synchronous: true });
});
after(async () => {
  await rig?.close();
});

/** Every failed or in-doubt answer is an outage answer with its catalogued status. */
function assertOutageAnswers(r: LoadResult): void {
  for (const o of r.outcomes) {
    if (o.status === 'none' || (o.status >= 200 && o.status < 300)) continue;
    assert.ok(OUTAGE_CODES.has(o.code ?? ''), `${o.marker}: answered ${o.status} ${o.code ?? '(no code)'}; errors logged: ${rig.loggedErrors().join(' | ')}`);
    assert.equal(ERROR_CATALOGUE[o.code as keyof typeof ERROR_CATALOGUE]?.status, o.status, `${o.marker}: ${o.status} ${o.code ?? ''}`);
  }
}

/** Lines of the nodes' logs (Patroni's and PostgreSQL's) where a standby refused a write. */
function writesRefusedByStandbys(): string[] {
  return rig.patroni.nodes.flatMap((n) => fs.readFileSync(n.logFile, 'utf8').split('\n').filter((l) => /read-only transaction/.test(l)).map((l) => `${n.name}: ${l}`));
}

test('kill -9 of the leader under HTTP writes: pgpress writes to the promoted standby, loses no acknowledged write, commits no failed one', async (t) => {
  const res = await fetch(`${rig.baseUrl}/v1/articles/${rig.articleId}/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: rig.bearer },
    body: JSON.stringify({ body: 'before the failover' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  before_ = { id: ((await res.json()) as { id: number }).id, token: String(res.headers.get(LSN_HEADER)) };

  failover = await underLoad(rig, 'crash');
  const f = failover.figures;
  console.log(`failover (synchronous_mode) ${failover.oldLeader.name} → ${failover.newLeader.name}: ${JSON.stringify(f)}`);
  t.diagnostic(JSON.stringify(f));
  assert.deepEqual(failover.lost, [], 'every write answered 2xx is on the new primary (synchronous_mode)');
  assert.deepEqual(failover.failedButCommitted, [], 'no write answered with a definite error is on the new primary');
  assert.equal(f.duplicates, 0, 'no write applied twice');
  assertOutageAnswers(failover);
  assert.notEqual(f.write_gap_s, null, 'writes are acknowledged on the new primary');
  // A bound for a loaded machine: Patroni needs loop_wait (1 s) to see the crash, then promotes.
  assert.ok(f.write_gap_s! < 30, `first acknowledged write ${f.write_gap_s} s after the kill`);
  assert.deepEqual(writesRefusedByStandbys(), [], 'no write reached a standby');
});

test('the old leader rejoins as a replica (pg_rewind) and is back in the read rotation after its hysteresis', async () => {
  assert.ok(failover, 'the failover test ran');
  const old = failover.oldLeader;
  await rig.patroni.waitHealthy(120_000);
  const member = (await rig.patroni.members()).find((m) => m.name === old.name);
  assert.ok(member && member.role !== 'leader', `${old.name} is a replica again: ${JSON.stringify(member)}`);
  const t0 = Date.now();
  // The Cluster names nodes in the order of the multi-host URL, which is the harness's order.
  await inRotation(rig.store, old.name, 60_000);
  console.log(`${old.name} back in the read rotation ${Date.now() - t0} ms after Patroni reported the cluster healthy (hysteresis ${REJOIN_MS} ms)`);
  // Concurrent reads spread over the replicas in rotation (least loaded first): the old leader serves some.
  const port = sql('test.ha.port', 'SELECT inet_server_port() AS port, pg_sleep(0.05)');
  const ports = new Set<number>();
  for (let round = 0; round < 10 && !ports.has(old.pgPort); round++) {
    const rows = await Promise.all(Array.from({ length: 6 }, () => rig.store.cluster.query<{ port: number }>(port, [], { read: true })));
    for (const r of rows) ports.add(r.rows[0]!.port);
  }
  assert.ok(ports.has(old.pgPort), `reads reached the old leader ${old.name} (:${old.pgPort}); ports seen: ${[...ports].join(', ')}`);
  assert.ok(!ports.has(failover.newLeader.pgPort) || ports.size > 1, 'reads go to replicas');
});

test('read-your-writes across the failover: a token from the old primary sees its write; a token ahead of the new history is answered, not waited on', async () => {
  assert.ok(before_, 'the failover test ran');
  const url = `${rig.baseUrl}/v1/articles/${rig.articleId}/comments?limit=200`;
  const seen = async (token: string): Promise<{ ms: number; status: number; ids: number[] }> => {
    const t0 = Date.now();
    const res = await fetch(url, { headers: { [LSN_HEADER]: token } });
    const body = (await res.json()) as { items?: { id: number }[] };
    return { ms: Date.now() - t0, status: res.status, ids: (body.items ?? []).map((c) => c.id) };
  };
  for (let i = 0; i < 5; i++) {
    const r = await seen(before_.token);
    assert.equal(r.status, 200);
    assert.ok(r.ids.includes(before_.id), `the comment written before the failover is seen with its token (${before_.token})`);
  }
  // Far beyond anything the new primary wrote: clamped to the primary's position (bounded), then served.
  const ahead = await seen('FFFF/0');
  assert.equal(ahead.status, 200);
  assert.ok(ahead.ids.includes(before_.id));
  assert.ok(ahead.ms < 10_000, `a token ahead of the history was answered in ${ahead.ms} ms`);
});

test('a switchover under HTTP writes with an Idempotency-Key per write: every write ends acknowledged, none lost or applied twice, no answer a client could not retry', async (t) => {
  await rig.patroni.waitHealthy(120_000);
  // Clients as the API asks them to be: a key per logical write, sent again (same key) after a
  // 503/504 or no answer, after Retry-After. The write in flight at Patroni's fast shutdown of the
  // old leader (a COMMIT that may have committed locally, 503 PGP_OUTCOME_UNKNOWN) is one of them.
  const r = await underLoad(rig, 'switchover', { beforeMs: 1_000, afterMs: 2_000, retry: true });
  console.log(`switchover ${r.oldLeader.name} → ${r.newLeader.name}: ${JSON.stringify(r.figures)}`);
  t.diagnostic(JSON.stringify(r.figures));
  assert.deepEqual(r.unretryable, [], `every answer but success was one a client may retry with its key; errors logged: ${rig.loggedErrors().join(' | ')}`);
  const notAcked = r.outcomes.filter((o) => !(typeof o.status === 'number' && o.status >= 200 && o.status < 300));
  assert.deepEqual(notAcked.map((o) => `${o.marker} ${o.status} ${o.code ?? ''} after ${1 + (o.earlier?.length ?? 0)} attempts`), [], 'every logical write ends acknowledged');
  assert.deepEqual(r.lost, [], 'every write answered 2xx is on the new primary');
  assert.equal(r.figures.duplicates, 0, 'no write applied twice (each marker once in the database)');
  assert.ok(r.figures.acked > 0);
  assert.deepEqual(writesRefusedByStandbys(), [], 'no write reached a standby');
});
