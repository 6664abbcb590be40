// The high-availability rig shared by the test/ha tests and `npm run bench -- failover`: a Patroni
// cluster (test/harness/patroni.ts), the HTTP API over a store given the cluster's multi-host URL,
// and HTTP writers (test/harness/apiWriters.ts) whose every answer is checked against the new
// primary afterwards: acknowledged writes lost, definite failures that committed, the gap from the
// kill to the first acknowledged write sent after it.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import { migrate } from '../../src/migrate/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { tokenService, type TokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { markersIn, mayRetry, outcomeClass, startApiWriters, type WriteOutcome } from '../harness/apiWriters.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { startPatroni, type PatroniCluster, type PatroniNode } from '../harness/patroni.ts';

/** Answers a failover or switchover may give: all of them definite or in doubt, and catalogued. */
export const OUTAGE_CODES: ReadonlySet<string> = new Set(['PGP_DB_UNAVAILABLE', 'PGP_CIRCUIT_OPEN', 'PGP_POOL_TIMEOUT', 'PGP_DEADLINE_EXCEEDED', 'PGP_OUTCOME_UNKNOWN']);

/** Rejoin hysteresis of the rig's store: a node back as a replica serves reads after this. */
export const REJOIN_MS = 2_000;

/** A running Patroni cluster with the API in front of it. */
export interface HaRig {
  patroni: PatroniCluster;
  store: Store;
  app: FastifyInstance;
  baseUrl: string;
  articleId: number;
  userId: number;
  tokens: TokenService;
  bearer: string;
  /** The API's error log lines (code and message), for failure messages. */
  loggedErrors(): string[];
  close(): Promise<void>;
}

/** Starts Patroni (synchronous_mode as asked), migrates, and serves the API on a free port. */
export async function startHaRig(opts: { synchronous: boolean; requestBudgetMs?: number }): Promise<HaRig> {
  const patroni = await startPatroni({ synchronous: opts.synchronous });
  let store: Store | undefined;
  let app: FastifyInstance | undefined;
  try {
    const leader = await patroni.leader();
    await migrate({ url: leader.url, dir: 'migrations' });
    store = await createStore({
      url: patroni.multiHostUrl(),
      pool: { max: 4, replicas: { rejoinAfterMs: REJOIN_MS, monitorIntervalMs: 200, probeTimeoutMs: 1_000, rywWaitMs: 200, maxLagMs: 10_000 } },
    });
    await store.cluster.ready();
    const tokens = tokenService(randomBytes(32).toString('hex'));
    const logs = captureLogs();
    app = await buildApp({ logger: createLogger('warn', logs.stream), store, tokens, requestBudgetMs: opts.requestBudgetMs ?? 10_000, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const user = await store.users.create({ email: 'ha@example.com', username: 'hawriter', displayName: 'HA writer' });
    const article = await store.articles.create({ authorId: user.id, title: 'HA', status: 'published' });
    const s = store;
    const a = app;
    return {
      patroni, store, app, baseUrl, tokens, articleId: article.id, userId: user.id,
      bearer: `Bearer ${tokens.sign({ userId: user.id, role: 'author' })}`,
      loggedErrors: () => [...new Set(logs.lines().map((l) => `${String(l.code)}: ${(l.err as { message?: string } | undefined)?.message ?? ''}`))],
      close: async () => {
        await a.close();
        await s.close();
        await patroni.destroy();
      },
    };
  } catch (e) {
    await app?.close();
    await store?.close();
    await patroni.destroy();
    throw e;
  }
}

/** What a failover or switchover under load did to the writes. */
export interface LoadFigures {
  writes: number;
  acked: number;
  failed: number;
  unknown: number;
  unknown_committed: number;
  acked_lost: number;
  failed_but_committed: number;
  duplicates: number;
  /** Seconds from the kill (or the switchover request) to the first acknowledged write sent after it. */
  write_gap_s: number | null;
  /** Failed or in-doubt answers, by "status code" (with retry: every answer a client retried, too). */
  by_answer: Record<string, number>;
  /** Retry mode: logical writes that took more than one request, and the requests sent in all. */
  retried: number;
  /** Retry mode: writes whose last answer was a replay (an earlier attempt had committed, e.g. one answered PGP_OUTCOME_UNKNOWN). */
  replayed: number;
  requests: number;
  /** Answers a client could not retry with its Idempotency-Key: a definite error that is not a 503/504 (retry mode: must be 0). */
  unretryable: number;
}

/** The figures and what they were computed from. */
export interface LoadResult {
  figures: LoadFigures;
  outcomes: WriteOutcome[];
  /** The markers of acked writes that are missing, of failed writes that are present, of answers in doubt. */
  lost: string[];
  /** Answers a client could not have retried, as "marker status code". */
  unretryable: string[];
  inDoubt: string[];
  failedButCommitted: string[];
  oldLeader: PatroniNode;
  newLeader: PatroniNode;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Writers run for beforeMs, then `disrupt` (a kill -9 of the leader's PostgreSQL, or a switchover),
 * then until a new leader runs plus afterMs; every answer is then checked on the new leader.
 */
export async function underLoad(rig: HaRig, disrupt: 'crash' | 'switchover', opts: { writers?: number; beforeMs?: number; afterMs?: number; retry?: boolean } = {}): Promise<LoadResult> {
  const oldLeader = await rig.patroni.leader();
  // A fresh article per run: the writers number their markers from 1 each time.
  const { id: articleId } = await rig.store.articles.create({ authorId: rig.userId, title: `HA ${disrupt}`, status: 'published' });
  // Retry mode: an Idempotency-Key per logical write, resent after any answer a client may retry.
  const writers = startApiWriters({ baseUrl: rig.baseUrl, articleId, bearer: rig.bearer, writers: opts.writers ?? 6, timeoutMs: 30_000, ...(opts.retry ? { retry: { maxAttempts: 40, maxMs: 60_000 } } : {}) });
  let at = 0;
  let newLeader: PatroniNode;
  try {
    await sleep(opts.beforeMs ?? 1_500);
    at = Date.now();
    if (disrupt === 'crash') oldLeader.crashPostgres();
    else await rig.patroni.switchover();
    for (;;) {
      newLeader = await rig.patroni.leader(60_000);
      if (newLeader.name !== oldLeader.name) break;
      await sleep(100);
    }
    await sleep(opts.afterMs ?? 3_000);
  } finally {
    await writers.stop();
  }
  const outcomes = writers.outcomes.slice();
  const { present, duplicates } = await markersIn(newLeader.url, articleId);
  const acked = outcomes.filter((o) => outcomeClass(o) === 'acked');
  const failed = outcomes.filter((o) => outcomeClass(o) === 'failed');
  const unknown = outcomes.filter((o) => outcomeClass(o) === 'unknown');
  const lost = acked.filter((o) => !present.has(o.marker)).map((o) => o.marker);
  const failedButCommitted = failed.filter((o) => present.has(o.marker)).map((o) => `${o.marker} (${o.status} ${o.code ?? ''})`);
  // A write sent after the kill cannot have been acknowledged by the killed server.
  const firstAfter = acked.filter((o) => o.sentAt >= at).reduce<number | undefined>((m, o) => (m === undefined || o.answeredAt < m ? o.answeredAt : m), undefined);
  const byAnswer: Record<string, number> = {};
  for (const o of [...failed, ...unknown, ...outcomes.flatMap((x) => x.earlier ?? [])]) byAnswer[`${o.status} ${o.code ?? ''}`] = (byAnswer[`${o.status} ${o.code ?? ''}`] ?? 0) + 1;
  // Every answer that was not a success, final or retried: could a client have sent it again?
  const unretryable = outcomes.flatMap((o) => [...(o.earlier ?? []), ...(outcomeClass(o) === 'acked' ? [] : [{ status: o.status, ...(o.code === undefined ? {} : { code: o.code }) }])].filter((a) => !mayRetry(a)).map((a) => `${o.marker} ${a.status} ${a.code ?? ''}`));
  return {
    figures: {
      writes: outcomes.length,
      acked: acked.length,
      failed: failed.length,
      unknown: unknown.length,
      unknown_committed: unknown.filter((o) => present.has(o.marker)).length,
      acked_lost: lost.length,
      failed_but_committed: failedButCommitted.length,
      duplicates: duplicates.length,
      write_gap_s: firstAfter === undefined ? null : Math.round(firstAfter - at) / 1000,
      by_answer: byAnswer,
      retried: outcomes.filter((o) => (o.earlier?.length ?? 0) > 0).length,
      replayed: outcomes.filter((o) => o.replayed === true).length,
      requests: outcomes.reduce((n, o) => n + 1 + (o.earlier?.length ?? 0), 0),
      unretryable: unretryable.length,
    },
    outcomes,
    lost,
    unretryable,
    failedButCommitted,
    inDoubt: unknown.map((o) => `${o.marker} ${o.status} ${o.code ?? ''}${present.has(o.marker) ? ' (committed)' : ' (not committed)'}`),
    oldLeader,
    newLeader: newLeader!,
  };
}
