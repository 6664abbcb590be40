// Monitoring system integration: Debian's prometheus scrapes a running pgpress's GET /metrics and
// evaluates the shipped alert rules (deploy/prometheus/alerts.yml, `for:` shortened to 1 s). The
// pool is saturated (every connection in pg_sleep) and PgpressPoolUtilisationHigh fires. Then the
// database goes away for this pgpress (a TCP gate in front of PostgreSQL shuts): its circuit to the
// primary opens and Prometheus's own API lists PgpressBreakerOpen firing (and PgpressErrorRateHigh,
// from the 5xx answers); the gate opens again, the breaker's probe closes the circuit and the
// breaker alert resolves.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/http/app.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore } from '../../src/store.ts';
import { shippedRules, startPrometheus, type PromAlert } from '../harness/prometheus.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { startTcpGate } from './tcpGate.ts';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, context: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms\n${context()}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

const named = (alerts: PromAlert[], name: string): PromAlert | undefined => alerts.find((a) => a.labels.alertname === name);
const breakerAlert = (alerts: PromAlert[]): PromAlert | undefined => named(alerts, 'PgpressBreakerOpen');

test('a real Prometheus scrapes /metrics, fires PgpressPoolUtilisationHigh with the pool saturated, PgpressBreakerOpen (and the error-rate alert) while the primary is unreachable, and resolves the breaker alert after', { timeout: 90_000 }, async () => {
  const db = await testDatabase();
  const target = new URL(db.url);
  const gate = await startTcpGate(target.hostname, Number(target.port || 5432));
  after(() => gate.close());
  const viaGate = new URL(db.url);
  viaGate.hostname = '127.0.0.1';
  viaGate.port = String(gate.port);
  // One attempt per call and a short half-open pause: the breaker opens after 3 failed calls.
  const store = await createStore({ url: viaGate.toString(), pool: { max: 4, breaker: { failureThreshold: 3, halfOpenAfterMs: 60_000, probeIntervalMs: 200 } } });
  const app = await buildApp({ store, tokens: tokenService(randomBytes(32).toString('hex')), rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  after(async () => {
    await app.close();
    await store.close();
  });
  const { port } = app.server.address() as { port: number };

  // The shipped rules, with every `for:` shortened so the test sees an alert within seconds.
  const rules = shippedRules().replace(/^(\s+)for: .*$/gm, '$1for: 1s');
  const p = await startPrometheus({ targets: [`127.0.0.1:${port}`], rules: [rules] });
  after(() => p.stop());
  const context = (): string => `prometheus log:\n${p.log().slice(-1500)}`;

  // Prometheus scrapes pgpress: up is 1 and the breaker series is there, closed.
  await until('the first scrape', 20_000, async () => ((await p.query('pgpress_db_breaker_state{target="primary"} == 0')).length === 1 ? true : undefined), context);
  assert.equal(breakerAlert(await p.alerts()), undefined, 'no breaker alert while the database answers');

  // Saturate the default lane (4 connections, all in pg_sleep): PgpressPoolUtilisationHigh fires.
  const sleep = { name: 'test_pool_sleep', text: 'SELECT pg_sleep(8)' };
  const busy = Promise.all(Array.from({ length: 4 }, () => store.cluster.tx((q) => q.query(sleep))));
  const pool = await until('PgpressPoolUtilisationHigh firing', 8_000, async () => {
    const a = named(await p.alerts(), 'PgpressPoolUtilisationHigh');
    return a?.state === 'firing' ? a : undefined;
  }, context);
  assert.deepEqual([pool.labels.target, pool.labels.lane], ['primary', 'default']);
  await busy;

  gate.shut();
  // Calls fail on connect until the circuit opens; then they fail fast.
  for (let i = 0; i < 10; i++) {
    const r = await app.inject({ method: 'GET', url: '/v1/feed' });
    assert.ok(r.statusCode >= 500, `GET /v1/feed answers 5xx while the database is unreachable (got ${r.statusCode})`);
  }
  const firing = await until('PgpressBreakerOpen firing', 20_000, async () => {
    const a = breakerAlert(await p.alerts());
    return a?.state === 'firing' ? a : undefined;
  }, context);
  assert.equal(firing.labels.target, 'primary');
  assert.equal(firing.labels.severity, 'critical');
  assert.match(firing.annotations.summary ?? '', /circuit to the primary is open/);
  // Requests go on failing during the outage; 5xx are then over 1 % of the requests in the window and
  // the error-rate rule fires too. (rate() needs the 5xx series on two scrapes: it was born with the
  // first failures above.)
  const errors = await until('PgpressErrorRateHigh firing', 20_000, async () => {
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ method: 'GET', url: '/v1/feed' })).statusCode, 503);
    const a = named(await p.alerts(), 'PgpressErrorRateHigh');
    return a?.state === 'firing' ? a : undefined;
  }, context);
  assert.ok(Number(errors.value) > 0.01, `error rate ${errors.value}`);

  gate.open();
  // The breaker's probe reconnects and closes the circuit; the next evaluation drops the alert.
  await until('PgpressBreakerOpen resolved', 20_000, async () => (breakerAlert(await p.alerts()) === undefined ? true : undefined), context);
  const r = await app.inject({ method: 'GET', url: '/v1/feed' });
  assert.equal(r.statusCode, 200, 'the API answers again');
});
