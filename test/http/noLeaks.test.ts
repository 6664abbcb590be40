import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from '../../src/db/sql.ts';
import { ERROR_CATALOGUE } from '../../src/errors/catalogue.ts';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore } from '../../src/store.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { freePort } from '../harness/freePort.ts';
import { testApp } from '../harness/testApp.ts';

const selectOne = sql('test.select_one', 'SELECT 1 AS one');

test('a transaction function that throws a TypeError: the body is generic, the log has the details under the request id', async () => {
  const logs = captureLogs();
  const { app, store } = await testApp({ logger: createLogger('info', logs.stream) });
  // A programming error inside a write: a column read that is not in the row.
  app.get('/test/tx-type-error', async () =>
    (await store.cluster.tx(async (q) => {
      const { rows } = await q.query<{ one: number }>(selectOne);
      return (rows[0] as unknown as { missing: { field: number } }).missing.field;
    })).value,
  );
  const res = await app.inject('/test/tx-type-error');
  assert.equal(res.statusCode, 500);
  const body = res.json();
  assert.equal(body.code, 'PGP_INTERNAL');
  assert.equal(body.message, ERROR_CATALOGUE.PGP_INTERNAL.summary);
  assert.doesNotMatch(res.body, /Cannot read|missing|field|TypeError|at /);
  const logged = logs.lines().find((l) => l.msg === 'request failed' && l.reqId === body.requestId);
  assert.ok(logged, 'the failure is logged under the request id');
  assert.match(JSON.stringify(logged), /Cannot read properties of undefined/);
});

test('a connect failure to a closed port: 503 bodies name no host, port or user', async () => {
  const port = await freePort();
  const url = `postgres://leaky_user:hunter2hunter2@127.0.0.1:${port}/leaky_db`;
  const store = await createStore({ url, pool: { max: 2, acquireTimeoutMs: 1_000 } });
  const tokens = tokenService(randomBytes(32).toString('hex'));
  const app = await buildApp({ store, tokens, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  try {
    const bearer = `Bearer ${tokens.sign({ userId: 1, role: 'author' })}`;
    const responses = [
      await app.inject('/v1/articles/1'),
      await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: bearer }, payload: { title: 'x' } }),
      await app.inject({ method: 'POST', url: '/v1/events', payload: { articleId: 1, kind: 'view' } }),
      await app.inject('/readyz'),
    ];
    for (const res of responses) {
      assert.ok(res.statusCode >= 500, `${res.statusCode} ${res.body}`);
      assert.doesNotMatch(res.body, new RegExp(`127\\.0\\.0\\.1|${port}|leaky_user|leaky_db|hunter2|ECONNREFUSED`), res.body);
    }
    assert.match(responses[0]!.json().code, /^PGP_(DB_UNAVAILABLE|CIRCUIT_OPEN)$/);
  } finally {
    await app.close();
    await store.close();
  }
});
