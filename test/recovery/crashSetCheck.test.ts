// The crash set check (a Jepsen-style set test): clients write unique values through the HTTP API
// while the primary is killed (kill -9 of the postmaster and every backend) and restarted, several
// times. Afterwards every value answered 2xx is in the database (acked_lost = 0), no value answered
// with a definite error is (failed_but_committed = 0), none is there twice; values answered
// PGP_OUTCOME_UNKNOWN (or not answered) may be either and are only counted.
//
// fsync is off in this throwaway cluster, for speed. That is still a faithful crash of PostgreSQL:
// a COMMIT is acknowledged only after its WAL was written (write(2)) to the OS, and a kill -9 of
// the server's processes leaves the OS page cache, so recovery replays everything acknowledged.
// (It would not be for an OS crash or power loss; synchronous_commit stays on, which matters here:
// with it off, commits acknowledged from WAL buffers in shared memory would be lost.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE } from '../../src/errors/catalogue.ts';
import { buildApp } from '../../src/http/app.ts';
import { migrate } from '../../src/migrate/index.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { markersIn, outcomeClass, startApiWriters } from '../harness/apiWriters.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';

const KILLS = 4;
const WRITERS = 6;
/** Writes between kills; the server is down (killed, then crash recovery) for a while after each. */
const UP_MS = 1_500;
const DOWN_MS = 400;
/** A short request budget, so that deadlines also fall inside outages. */
const BUDGET_MS = 2_000;

/** The answers an outage may give. */
const OUTAGE_CODES = new Set(['PGP_DB_UNAVAILABLE', 'PGP_CIRCUIT_OPEN', 'PGP_POOL_TIMEOUT', 'PGP_DEADLINE_EXCEEDED', 'PGP_OUTCOME_UNKNOWN']);

let pgc: TestCluster | undefined;
let store: Store | undefined;
let app: FastifyInstance | undefined;
after(async () => {
  await app?.close();
  await store?.close();
  await pgc?.destroy();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test(`${WRITERS} HTTP clients write unique values through ${KILLS} kill -9s of the primary: no acknowledged value is lost, no failed one is present`, async (t) => {
  pgc = await startCluster({ settings: { fsync: 'off', synchronous_commit: 'on' } });
  const primary = pgc.primary;
  await migrate({ url: primary.url, dir: 'migrations' });
  store = await createStore({ url: primary.url, pool: { max: 4 } });
  const tokens = tokenService(randomBytes(32).toString('hex'));
  const logs = captureLogs();
  app = await buildApp({ logger: createLogger('warn', logs.stream), store, tokens, requestBudgetMs: BUDGET_MS, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const user = await store.users.create({ email: 'set@example.com', username: 'setcheck', displayName: 'Set check' });
  const article = await store.articles.create({ authorId: user.id, title: 'Set check', status: 'published' });

  const writers = startApiWriters({ baseUrl, articleId: article.id, bearer: `Bearer ${tokens.sign({ userId: user.id, role: 'author' })}`, writers: WRITERS });
  let lastRestart = 0;
  try {
    for (let k = 0; k < KILLS; k++) {
      await sleep(UP_MS);
      primary.signalAll('SIGKILL');
      await sleep(DOWN_MS);
      await primary.start(); // crash recovery replays the WAL; resolves once connections are accepted
      lastRestart = Date.now();
    }
    await sleep(UP_MS * 2);
  } finally {
    await writers.stop();
  }
  const outcomes = writers.outcomes;

  const { present, duplicates } = await markersIn(primary.url, article.id);
  const acked = outcomes.filter((o) => outcomeClass(o) === 'acked');
  const failed = outcomes.filter((o) => outcomeClass(o) === 'failed');
  const unknown = outcomes.filter((o) => outcomeClass(o) === 'unknown');
  const ackedLost = acked.filter((o) => !present.has(o.marker));
  const failedButCommitted = failed.filter((o) => present.has(o.marker));
  const unknownCommitted = unknown.filter((o) => present.has(o.marker)).length;
  const byAnswer: Record<string, number> = {};
  for (const o of [...failed, ...unknown]) byAnswer[`${o.status} ${o.code ?? ''}`] = (byAnswer[`${o.status} ${o.code ?? ''}`] ?? 0) + 1;
  const counts = {
    writes: outcomes.length, acked: acked.length, failed: failed.length, unknown: unknown.length,
    unknown_committed: unknownCommitted, acked_lost: ackedLost.length, failed_but_committed: failedButCommitted.length, duplicates: duplicates.length,
  };
  console.log(`crash set check over ${KILLS} kills: ${JSON.stringify(counts)}; failures by answer ${JSON.stringify(byAnswer)}`);
  t.diagnostic(JSON.stringify(counts));

  assert.deepEqual(ackedLost.map((o) => `${o.marker} (${o.status})`), [], 'every value answered 2xx is in the database');
  assert.deepEqual(failedButCommitted.map((o) => `${o.marker} (${o.status} ${o.code ?? ''})`), [], 'no value answered with a definite error is in the database');
  assert.deepEqual(duplicates, [], 'no value was written twice');
  // Every failure says what happened: the database is unavailable (or the write is in doubt), in a
  // catalogued answer with its documented status; never an unexplained 500.
  const logged = [...new Set(logs.lines().map((l) => `${String(l.code)}: ${(l.err as { message?: string } | undefined)?.message ?? ''}`))];
  for (const o of [...failed, ...unknown]) {
    if (o.status === 'none') continue;
    assert.ok(OUTAGE_CODES.has(o.code ?? ''), `${o.marker}: answered ${o.status} ${o.code ?? '(no code)'} during an outage; errors logged: ${logged.join(' | ')}`);
    assert.equal(ERROR_CATALOGUE[o.code as keyof typeof ERROR_CATALOGUE]?.status, o.status, `${o.marker}: ${o.status} ${o.code ?? '(no code)'}`);
  }
  // The premise: the kills were felt, and the API served writes again after the last one.
  assert.ok(failed.length + unknown.length > 0, 'the kills failed some writes');
  assert.ok(acked.some((o) => o.sentAt > lastRestart), 'writes are acknowledged after the last restart');
});
