// `pgpress serve` on a Patroni cluster given only multi-host URLs (DATABASE_URL as pgpress_app,
// MIGRATION_DATABASE_URL as pgpress_owner, as docs/security.md deploys it), with the query cache
// and the scheduler on: the whole leader node dies (Patroni and PostgreSQL, kill -9), Patroni
// promotes a replica, and the dedicated connections that used to stay on the primary found at start
// follow it: the cache's change feed (an UPDATE by a plain SQL client on the new primary reaches
// the next API read within a bound) and the scheduler's leader lock (it leads again on the new
// primary and runs a job there). Then, with PATRONI_URLS, the killed node coming back joins the
// read candidates (in rotation after the rejoin period) and a member that dies leaves them, without
// a restart. One cluster for the file: the checks run in sequence.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadSettings } from '../../src/config/settings.ts';
import { discoverPatroniNodes } from '../../src/db/topology.ts';
import { migrate } from '../../src/migrate/index.ts';
import { ROLES } from '../../src/security/roles.ts';
import { createStore } from '../../src/store.ts';
import { startServer, type RunningServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startScheduler, type Scheduler } from '../../src/ops/scheduler/index.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { startPatroni, type PatroniCluster, type PatroniNode } from '../harness/patroni.ts';

/** After the change feed is on the new primary: a commit there reaches the next API read within this. */
const READ_BOUND_MS = 3_000;
/** From the promotion to the feed's and the scheduler's connections on the new primary (backoff ≤ 5 s + resolution). */
const FOLLOW_BOUND_MS = 30_000;
/** Rejoin hysteresis of the PATRONI_URLS store: a member that joined serves reads after this. */
const REJOIN_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let patroni: PatroniCluster;
let server: RunningServer;
let scheduler: Scheduler;
let oldLeader: PatroniNode;
let newLeader: PatroniNode;
let killedAt = 0;
let articleId = 0;
const logs = captureLogs();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgpress-follow-'));

before(async () => {
  patroni = await startPatroni({ synchronous: false });
  // Migrations as the superuser (they create the roles); the service as the roles (trusted on loopback).
  await migrate({ url: (await patroni.leader()).url, dir: 'migrations' });
  const as = (role: string): string => patroni.multiHostUrl().replace('postgres://postgres@', `postgres://${role}@`);
  const settings = loadSettings({
    DATABASE_URL: as(ROLES.app), MIGRATION_DATABASE_URL: as(ROLES.owner), MIGRATE_ON_START: 'false', PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0',
    PGPRESS_DATA_DIR: dataDir, JWT_SECRET: randomBytes(32).toString('hex'),
    CACHE_CHANGES_POLL_MS: '200', CACHE_CONTENT_TTL_MS: '3600000',
    DB_REPLICA_MAX_LAG_MS: '1000', DB_REPLICA_REJOIN_MS: '1000', DB_REPLICA_MONITOR_INTERVAL_MS: '200',
    // One cheap job, due every second; the others off.
    SCHEDULER_POLL_MS: '200', JOB_SOURCE_CHANGES_INTERVAL_S: '1',
    JOB_PARTITIONS_INTERVAL_S: '0', JOB_MATVIEWS_INTERVAL_S: '0', JOB_VACUUM_INTERVAL_S: '0', JOB_REINDEX_INTERVAL_S: '0', JOB_IDEMPOTENCY_KEYS_INTERVAL_S: '0',
  });
  const logger = createLogger('warn', logs.stream);
  server = await startServer(settings, logger);
  scheduler = startScheduler(settings, server.maintenance.cluster, server.maintenance.url, logger);
  const user = await server.store.users.create({ email: 'follow@example.com', username: 'follower', displayName: 'Follower' });
  articleId = (await server.store.articles.create({ authorId: user.id, title: 'v0', status: 'published' })).id;
});

after(async () => {
  await scheduler?.stop();
  await server?.close();
  await patroni?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** What the API serves as the article's title now. */
async function title(): Promise<string> {
  const res = await fetch(`${server.url}/v1/articles/${articleId}`);
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { title: string }).title;
}

/** Runs sql on node with a plain client (as psql would). */
async function psql(node: PatroniNode, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: node.url, connectionTimeoutMillis: 5_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Polls check until it returns true; fails with what() after boundMs. Resolves with the ms it took. */
async function within(boundMs: number, what: () => string, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > boundMs) assert.fail(`${what()} (after ${Date.now() - t0} ms); warnings logged: ${warnings()}`);
    await sleep(100);
  }
}

function warnings(): string {
  return [...new Set(logs.lines().map((l) => `${String(l.component ?? '')}: ${String(l.msg)} ${String(l.err ?? '')}`))].slice(-12).join(' | ');
}

/** Whether node has a backend with this application name (and pid, when given). */
async function hasBackend(node: PatroniNode, app: string, pid?: number): Promise<boolean> {
  const r = await psql(node, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND ($2::int IS NULL OR pid = $2)', [app, pid ?? null]);
  return r.rows[0].n > 0;
}

/**
 * Makes sure the API serves the article from its cache: an UPDATE with the change-log triggers off
 * (session_replication_role = replica, as no client of ours would) must not show. Then a plain
 * UPDATE must reach the next read within READ_BOUND_MS: only the change feed can make it.
 */
async function plainUpdateReachesTheApi(node: PatroniNode, value: string): Promise<number> {
  let cached = false;
  for (let i = 0; i < 20 && !cached; i++) {
    const seen = await title();
    assert.equal(await title(), seen);
    await psql(node, `SET session_replication_role = replica; UPDATE articles SET title = 'hidden ${value} ${i}' WHERE id = ${Number(articleId)}`);
    await sleep(300);
    cached = (await title()) === seen;
    if (!cached) await sleep(700); // the entry was not stored yet (settling after a change): read again
  }
  assert.ok(cached, 'the API serves the article from its cache');
  await psql(node, 'UPDATE articles SET title = $2 WHERE id = $1', [articleId, value]);
  const t0 = Date.now();
  while ((await title()) !== value) {
    assert.ok(Date.now() - t0 < READ_BOUND_MS, `the API still serves the old title ${Date.now() - t0} ms after a plain UPDATE on ${node.name}; warnings logged: ${warnings()}`);
    await sleep(20);
  }
  return Date.now() - t0;
}

test('before the failover: the feed and the scheduler are on the leader', async () => {
  oldLeader = await patroni.leader();
  await within(FOLLOW_BOUND_MS, () => `no change feed connection on the leader ${oldLeader.name}`, () => hasBackend(oldLeader, 'pgpress-cache-listen'));
  const ms = await plainUpdateReachesTheApi(oldLeader, 'v1');
  console.log(`before the failover: plain UPDATE on ${oldLeader.name} → API after ${ms} ms`);
  await within(FOLLOW_BOUND_MS, () => 'the scheduler does not lead on the leader', async () => scheduler.leading && (await hasBackend(oldLeader, 'pgpress-scheduler', scheduler.election.backendPid)));
});

test('the leader node dies: the change feed follows the promoted primary, and a plain UPDATE there reaches the API', async () => {
  killedAt = Date.now();
  oldLeader.killNode();
  for (;;) {
    newLeader = await patroni.leader(60_000);
    if (newLeader.name !== oldLeader.name) break;
    await sleep(100);
  }
  const promotedMs = Date.now() - killedAt;
  const followMs = await within(FOLLOW_BOUND_MS, () => `no change feed connection on the new primary ${newLeader.name}`, () => hasBackend(newLeader, 'pgpress-cache-listen'));
  console.log(`kill of ${oldLeader.name} → ${newLeader.name} promoted after ${promotedMs} ms; change feed there ${followMs} ms later`);
  // The feed saw a new timeline: it dropped the cache once (writes lost with asynchronous replication may have been cached).
  assert.ok(logs.lines().some((l) => /new timeline/.test(String(l.msg))), `the feed noticed the new timeline; warnings logged: ${warnings()}`);
  const ms = await plainUpdateReachesTheApi(newLeader, 'v2');
  console.log(`after the failover: plain UPDATE on ${newLeader.name} → API after ${ms} ms`);
});

test('the leader node dies: the scheduler leads again on the promoted primary and runs its job there', async () => {
  assert.ok(newLeader, 'the failover happened (previous test)');
  const ms = await within(FOLLOW_BOUND_MS, () => `the scheduler does not lead on the new primary ${newLeader.name} (leading: ${scheduler.leading})`,
    async () => scheduler.leading && (await hasBackend(newLeader, 'pgpress-scheduler', scheduler.election.backendPid)));
  await within(FOLLOW_BOUND_MS, () => `no source_changes run recorded on ${newLeader.name} since the kill`, async () => {
    const r = await psql(newLeader, "SELECT count(*)::int AS n FROM pgpress_job_runs WHERE job = 'source_changes' AND outcome = 'ok' AND started_at > to_timestamp($1::float8 / 1000)", [killedAt]);
    return r.rows[0].n > 0;
  });
  console.log(`scheduler leads on ${newLeader.name} ${ms} ms after the feed check; a job ran there`);
});

test('with PATRONI_URLS, a member that joins later becomes a read candidate after the rejoin period, and one that dies stops being one', async () => {
  assert.ok(newLeader, 'the failover happened (earlier test)');
  // The killed node's member key expires after Patroni's ttl (8 s): two members are left.
  await within(FOLLOW_BOUND_MS, () => `${oldLeader.name} is still a Patroni member`, async () => !(await patroni.members()).some((m) => m.name === oldLeader.name));
  const patroniUrls = patroni.patroniUrls.split(',');
  const store = await createStore({
    url: newLeader.url,
    pool: { max: 2, patroniUrls, nodes: await discoverPatroniNodes(patroniUrls), replicas: { rejoinAfterMs: REJOIN_MS, monitorIntervalMs: 200, probeTimeoutMs: 1_000, rywWaitMs: 200, maxLagMs: 10_000 } },
  });
  try {
    await store.cluster.ready();
    const candidate = async (n: PatroniNode): Promise<{ inRotation?: boolean | undefined; state: string } | undefined> =>
      (await store.cluster.health()).find((t) => t.role === 'replica' && t.url.includes(`:${n.pgPort}/`));
    assert.equal(await candidate(oldLeader), undefined, `${oldLeader.name} is not a read candidate while it is not a member`);

    oldLeader.startNode();
    let listedAt = 0;
    const t0 = Date.now();
    await within(90_000, () => `${oldLeader.name} did not join the read rotation`, async () => {
      const c = await candidate(oldLeader);
      if (c && listedAt === 0) listedAt = Date.now();
      return c?.inRotation === true;
    });
    const outOfRotationMs = Date.now() - listedAt;
    console.log(`${oldLeader.name} restarted: a read candidate ${listedAt - t0} ms later, in rotation ${outOfRotationMs} ms after that (rejoin period ${REJOIN_MS} ms)`);
    // Polled every 100 ms: the candidate may have been listed up to a poll before we saw it.
    assert.ok(outOfRotationMs >= REJOIN_MS - 300, `in rotation ${outOfRotationMs} ms after joining: the rejoin period (${REJOIN_MS} ms) applies to a member that joined later`);

    const other = patroni.nodes.find((n) => n !== oldLeader && n !== newLeader)!;
    other.killNode();
    const goneMs = await within(FOLLOW_BOUND_MS, () => `${other.name} is still a read candidate after it died`, async () => (await candidate(other)) === undefined);
    console.log(`${other.name} killed: no longer a read candidate ${goneMs} ms later (Patroni's ttl 8 s)`);
  } finally {
    await store.close();
  }
});

test('serve with PATRONI_URLS and a DATABASE_URL naming a standby: the change feed listens on Patroni\'s leader', async () => {
  assert.ok(newLeader, 'the failover happened (earlier test)');
  const standby = oldLeader;
  await within(FOLLOW_BOUND_MS, () => `${standby.name} is not a standby`, async () => (await psql(standby, 'SELECT pg_is_in_recovery() AS r')).rows[0].r === true);
  const listeners = async (n: PatroniNode): Promise<number> => (await psql(n, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pgpress-cache-listen'")).rows[0].n;
  const before = await listeners(newLeader);
  const settings = loadSettings({
    DATABASE_URL: standby.url, PATRONI_URLS: patroni.patroniUrls, PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0',
    PGPRESS_DATA_DIR: dataDir, JWT_SECRET: randomBytes(32).toString('hex'), MIGRATE_ON_START: 'false',
  });
  const second = await startServer(settings, createLogger('warn', logs.stream));
  try {
    await within(FOLLOW_BOUND_MS, () => `no second change feed connection on the leader ${newLeader.name}`, async () => (await listeners(newLeader)) === before + 1);
    assert.equal(await listeners(standby), 0, `no change feed connection on the standby ${standby.name}`);
  } finally {
    await second.close();
  }
});
