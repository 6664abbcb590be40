import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { sql } from '../../src/db/sql.ts';
import { testApp } from '../harness/testApp.ts';

const sleep = sql('test.sleep', 'SELECT pg_sleep($1)');
import { testRedis } from '../harness/testRedis.ts';

test('the rate limit is per client and shared across instances through Redis', async () => {
  const { redis } = testRedis();
  const rateLimit = { max: 5, windowMs: 60_000, redis: redis as Redis };
  const a = await testApp({ rateLimit });
  const b = await testApp({ rateLimit });
  const codes: number[] = [];
  for (let i = 0; i < 4; i++) codes.push((await a.app.inject({ url: '/v1/articles/1', remoteAddress: '10.0.0.7' })).statusCode);
  for (let i = 0; i < 3; i++) codes.push((await b.app.inject({ url: '/v1/articles/1', remoteAddress: '10.0.0.7' })).statusCode);
  assert.deepEqual(codes, [404, 404, 404, 404, 404, 429, 429]);
  const limited = await b.app.inject({ url: '/v1/articles/1', remoteAddress: '10.0.0.7' });
  assert.equal(limited.json().code, 'PGP_RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) > 0);
  assert.equal((await a.app.inject({ url: '/v1/articles/1', remoteAddress: '10.0.0.8' })).statusCode, 404, 'another client is not limited');
  assert.equal((await a.app.inject({ url: '/healthz', remoteAddress: '10.0.0.7' })).statusCode, 200, 'probes are never limited');
});

test('under pressure requests are shed with 503 and Retry-After while /healthz answers', async () => {
  const { app, store } = await testApp();
  let pressure = false;
  store.saturated = () => pressure;
  assert.equal((await app.inject('/v1/articles/1')).statusCode, 404);
  pressure = true;
  const shed = await app.inject('/v1/articles/1');
  assert.equal(shed.statusCode, 503);
  assert.equal(shed.json().code, 'PGP_OVERLOADED');
  assert.equal(shed.headers['retry-after'], '1');
  assert.equal((await app.inject('/healthz')).statusCode, 200);
  pressure = false;
  assert.equal((await app.inject('/v1/articles/1')).statusCode, 404);
});

test('a saturated pool triggers shedding for real', async () => {
  const { app, store } = await testApp();
  // Hold every connection (pool max 4) and queue more than four waiters per connection.
  const sleepers = Array.from({ length: 4 + 17 }, () => store.cluster.query(sleep, [0.6]));
  await new Promise((r) => setTimeout(r, 100));
  const shed = await app.inject('/v1/articles/1');
  assert.equal(shed.statusCode, 503);
  await Promise.all(sleepers);
  assert.equal((await app.inject('/v1/articles/1')).statusCode, 404);
});

test('the OpenAPI document lists every route and the docs page renders', async () => {
  const { app } = await testApp();
  const doc = (await app.inject('/docs/json')).json();
  assert.equal(doc.openapi, '3.0.3');
  for (const path of ['/healthz', '/readyz', '/v1/users', '/v1/users/{id}', '/v1/articles', '/v1/articles/{id}']) {
    assert.ok(doc.paths[path], `missing ${path}`);
  }
  assert.deepEqual(doc.paths['/v1/articles'].post.security, [{ bearer: [] }]);
  const page = await app.inject('/docs/');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /swagger-ui/i);
});

test('a lagging event loop sheds requests until it recovers; a single stall does not', async () => {
  const { app } = await testApp({ shedEventLoopDelayMs: 100 });
  const busy = (ms: number): void => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // block the event loop, as CPU-bound work would
    }
  };
  const statusAfter = async (ms: number): Promise<number> => {
    await new Promise((r) => setTimeout(r, ms));
    return (await app.inject('/v1/articles/1')).statusCode;
  };
  await new Promise((r) => setTimeout(r, 100)); // let the delay monitor start ticking
  busy(300); // one stall: a late tick among many on time
  const afterStall: number[] = [];
  for (let i = 0; i < 8; i++) afterStall.push(await statusAfter(100));
  assert.ok(!afterStall.includes(503), `one stall must not shed: ${afterStall}`);

  // Sustained lag: the loop blocks 150 ms out of every 160.
  const lag = setInterval(() => busy(150), 10);
  const during: number[] = [];
  try {
    for (let i = 0; i < 15 && !during.includes(503); i++) during.push(await statusAfter(100));
  } finally {
    clearInterval(lag);
  }
  assert.ok(during.includes(503), `sustained lag sheds: ${during}`);
  assert.equal((await app.inject('/healthz')).statusCode, 200);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await app.inject('/v1/articles/1')).statusCode, 404, 'recovered');
});
