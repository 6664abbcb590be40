// The OpenAPI document lists what a route can answer when things go wrong: 500, 503 with
// Retry-After, 504, and 429 with Retry-After where the rate limit applies; the response contract
// (test/harness/responseContract.ts) holds real 503s and 429s to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../harness/testApp.ts';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>> };

test('every route documents 500, 503 with Retry-After and 504; rate-limited routes 429 with Retry-After', async () => {
  const { app } = await testApp({ rateLimit: { max: 100, windowMs: 60_000 } });
  const doc = (await app.inject('/docs/json')).json() as Doc;
  let routes = 0;
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (path.startsWith('/docs')) continue;
    for (const [method, op] of Object.entries(methods)) {
      routes++;
      const where = `${method.toUpperCase()} ${path}`;
      for (const status of ['500', '503', '504']) assert.ok(op.responses[status], `${where} documents ${status}`);
      assert.ok(op.responses['503']!.headers?.['retry-after'], `${where}: 503 documents Retry-After`);
      if (path !== '/healthz' && path !== '/readyz') assert.ok(op.responses['429']?.headers?.['retry-after'], `${where}: 429 with Retry-After`);
    }
  }
  assert.ok(routes >= 15, `${routes} routes checked`);
});

test('real 503s and 429s match what the routes document (the response contract checks status, body and headers)', async () => {
  const shed = await testApp();
  shed.store.saturated = () => true;
  for (const url of ['/v1/articles/1', '/v1/feed', '/v1/analytics/top']) assert.equal((await shed.app.inject(url)).statusCode, 503);
  const limited = await testApp({ rateLimit: { max: 1, windowMs: 60_000 } });
  await limited.app.inject('/v1/articles/1');
  const res = await limited.app.inject('/v1/articles/1');
  assert.equal(res.statusCode, 429);
  // The contract's verdict is asserted when each app closes (test/harness/testApp.ts).
});
