// A frozen primary (SIGSTOP of the whole server) under HTTP: every request answers a catalogued
// 503/504 within HTTP_REQUEST_BUDGET_MS, with the pools on their default (much longer) timeouts;
// after SIGCONT the API serves again within a few seconds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ERROR_CATALOGUE } from '../../src/errors/catalogue.ts';
import { buildApp } from '../../src/http/app.ts';
import { migrate } from '../../src/migrate/index.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { startCluster, type TestCluster } from '../harness/pgCluster.ts';

const BUDGET_MS = 1_500;
const SLACK_MS = 1_500; // a loaded two-core machine
const HUNG_MS = 10_000; // an answer this late counts as none (the pools' own bound is 35 s)

let pgc: TestCluster | undefined;
let store: Store | undefined;
let app: FastifyInstance | undefined;
let frozen = false;
after(async () => {
  if (frozen) pgc?.primary.signalAll('SIGCONT');
  await app?.close();
  await store?.close();
  await pgc?.destroy();
});

type Outcome = { what: string; status: number | 'hung'; code?: string; ms: number };

test('a frozen primary: HTTP GETs and POSTs answer 503/504 within the request budget; SIGCONT brings service back', async (t) => {
  pgc = await startCluster();
  await migrate({ url: pgc.primary.url, dir: 'migrations' });
  // The pools keep their defaults (acquire 5 s, statement 30 s): only the HTTP budget bounds a request.
  store = await createStore({ url: pgc.primary.url });
  const tokens = tokenService(randomBytes(32).toString('hex'));
  app = await buildApp({ store, tokens, requestBudgetMs: BUDGET_MS, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  const a = app;
  const user = await store.users.create({ email: 'fz@example.com', username: 'frozen', displayName: 'F' });
  const article = await store.articles.create({ authorId: user.id, title: 'Before the freeze', status: 'published' });
  const auth = { authorization: `Bearer ${tokens.sign({ userId: user.id, role: 'author' })}` };
  const requests: Array<[string, () => Promise<LightMyRequestResponse>]> = [
    ['GET article', () => a.inject(`/v1/articles/${article.id}`)],
    ['GET feed', () => a.inject('/v1/feed')],
    ['GET comments', () => a.inject(`/v1/articles/${article.id}/comments`)],
    ['POST article', () => a.inject({ method: 'POST', url: '/v1/articles', headers: auth, payload: { title: 'During' } })],
    ['PATCH article', () => a.inject({ method: 'PATCH', url: `/v1/articles/${article.id}`, headers: auth, payload: { version: article.version, title: 'x' } })],
    ['POST comment', () => a.inject({ method: 'POST', url: `/v1/articles/${article.id}/comments`, headers: auth, payload: { body: 'hi' } })],
    ['POST event', () => a.inject({ method: 'POST', url: '/v1/events', payload: { articleId: article.id, kind: 'view' } })],
  ];
  const run = async ([what, send]: (typeof requests)[number]): Promise<Outcome> => {
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), HUNG_MS)));
    const res = await Promise.race([send(), hung]);
    clearTimeout(timer);
    const ms = Math.round(performance.now() - t0);
    return res === 'hung' ? { what, status: 'hung', ms } : { what, status: res.statusCode, code: res.json().code, ms };
  };
  assert.equal((await run(requests[0]!)).status, 200, 'served before the freeze');

  pgc.primary.signalAll('SIGSTOP');
  frozen = true;
  let outcomes: Outcome[];
  try {
    // Under load (more requests than pooled connections: some are sent and get no answer, the
    // rest queue for a connection), then once more after.
    const load = Array.from({ length: 6 }, () => requests).flat();
    outcomes = [...(await Promise.all(load.map(run))), ...(await Promise.all(requests.map(run)))];
  } finally {
    pgc.primary.signalAll('SIGCONT');
    frozen = false;
  }
  const byCode: Record<string, number> = {};
  for (const o of outcomes) byCode[`${o.status} ${o.code ?? ''}`] = (byCode[`${o.status} ${o.code ?? ''}`] ?? 0) + 1;
  t.diagnostic(`${outcomes.length} requests: ${JSON.stringify(byCode)}; slowest ${Math.max(...outcomes.map((o) => o.ms))} ms`);
  for (const o of outcomes) {
    assert.ok(o.status === 503 || o.status === 504, `${o.what}: ${o.status} ${o.code ?? ''} after ${o.ms} ms`);
    assert.equal(ERROR_CATALOGUE[o.code as keyof typeof ERROR_CATALOGUE]?.status, o.status, `${o.what}: catalogued ${o.code}`);
    assert.ok(o.ms <= BUDGET_MS + SLACK_MS, `${o.what}: answered after ${o.ms} ms (budget ${BUDGET_MS} ms)`);
  }

  const t0 = performance.now();
  let back: Outcome | undefined;
  while (performance.now() - t0 < 15_000) {
    back = await run(requests[0]!);
    if (back.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const backMs = Math.round(performance.now() - t0);
  t.diagnostic(`served again ${backMs} ms after SIGCONT`);
  assert.equal(back?.status, 200, `served again after SIGCONT: ${JSON.stringify(back)}`);
  assert.ok(backMs <= 5_000, `served again ${backMs} ms after SIGCONT`);
  const w = await run(requests[3]!);
  assert.equal(w.status, 201, `writes too: ${JSON.stringify(w)}`);
});
