import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from '../../src/db/sql.ts';
import { buildApp } from '../../src/http/app.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore } from '../../src/store.ts';
import { freePort } from '../harness/freePort.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { registry } from '../../src/observability/metrics.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { testApp } from '../harness/testApp.ts';

const sleep = sql('test.sleep', 'SELECT pg_sleep($1)');

async function metricValue(name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((s, v) => s + Number(v.value), 0);
}

const errorsAndSummaries = (lines: Array<Record<string, unknown>>): { errors: unknown[]; summaries: Array<Record<string, unknown>> } => ({
  errors: lines.filter((l) => Number(l.level) >= 50),
  summaries: lines.filter((l) => l.msg === 'requests refused (503 shed or circuit open, 429 rate limited)'),
});

test('a burst of shed requests is counted and summarised, not logged one by one as errors', async () => {
  const logs = captureLogs();
  const { app, store } = await testApp({ logger: createLogger('info', logs.stream) });
  const before = await metricValue('pgpress_http_shed_total');
  // Saturate the default lane for real (pool max 4): more than four waiters per connection.
  // The last of them wait ~4 s for a connection: on a loaded machine past the lane's acquire
  // timeout, which is the lane doing its job, not this test's subject.
  const sleepers = Array.from({ length: 4 + 17 }, () => store.cluster.query(sleep, [0.8]).catch((e: { code?: string }) => {
    if (e.code !== 'PGP_POOL_TIMEOUT') throw e;
  }));
  await new Promise((r) => setTimeout(r, 100));
  const codes = await Promise.all(Array.from({ length: 60 }, () => app.inject({ url: '/v1/articles/1' }).then((r) => r.statusCode)));
  await Promise.all(sleepers);
  assert.equal(codes.filter((c) => c === 503).length, 60, `all shed: ${codes.join(',')}`);
  assert.equal((await metricValue('pgpress_http_shed_total')) - before, 60, 'each shed request is counted');
  const { errors, summaries } = errorsAndSummaries(logs.lines());
  assert.deepEqual(errors, [], 'no error line (with a stack) per shed request');
  assert.equal(summaries.length, 1, 'one summary line for the burst');
  assert.equal((summaries[0]!.counts as Record<string, number>).shed_pool, 1, 'the first refusal is reported at once; the rest in the next line');
});

test('a burst of rate-limited requests is counted and summarised', async () => {
  const logs = captureLogs();
  const { app } = await testApp({ logger: createLogger('info', logs.stream), rateLimit: { max: 5, windowMs: 60_000 } });
  const before = await metricValue('pgpress_http_rate_limited_total');
  const codes: number[] = [];
  for (let i = 0; i < 40; i++) codes.push((await app.inject({ url: '/v1/articles/1', remoteAddress: '10.1.2.3' })).statusCode);
  assert.equal(codes.filter((c) => c === 429).length, 35);
  assert.equal((await metricValue('pgpress_http_rate_limited_total')) - before, 35, 'each 429 is counted');
  const { errors, summaries } = errorsAndSummaries(logs.lines());
  assert.deepEqual(errors, []);
  assert.equal(summaries.length, 1, 'one summary line for the burst, not 35');
  await app.close(); // closing flushes the counts of the burst's tail
  const last = errorsAndSummaries(logs.lines()).summaries.at(-1)!;
  assert.equal(last.total, 34, `the rest of the burst is reported with its count: ${JSON.stringify(last)}`);
});

test('while a circuit is open, its fail-fast refusals are summarised, not logged one by one', async () => {
  const port = await freePort();
  const store = await createStore({ url: `postgres://postgres@127.0.0.1:${port}/none`, pool: { max: 2, acquireTimeoutMs: 500, breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 } } });
  const logs = captureLogs();
  const app = await buildApp({ store, tokens: tokenService(randomBytes(32).toString('hex')), logger: createLogger('info', logs.stream), rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  try {
    const codes: string[] = [];
    for (let i = 0; i < 40; i++) codes.push((await app.inject('/v1/articles/1')).json().code);
    const open = codes.filter((c) => c === 'PGP_CIRCUIT_OPEN').length;
    assert.ok(open >= 30, `the breaker opened: ${codes.join(',')}`);
    const { errors, summaries } = errorsAndSummaries(logs.lines());
    assert.ok(errors.length <= codes.length - open, `error lines only for the failures before the circuit opened: ${errors.length}`);
    assert.equal(summaries.length, 1, 'one summary line');
  } finally {
    await app.close();
    await store.close();
  }
  const last = errorsAndSummaries(logs.lines()).summaries.at(-1)!;
  assert.ok(Number((last.counts as Record<string, number>).circuit_open) >= 29, JSON.stringify(last));
});
