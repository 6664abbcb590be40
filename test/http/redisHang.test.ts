import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from '../../src/config/settings.ts';
import { startServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { registry } from '../../src/observability/metrics.ts';
import { captureLogs } from '../harness/captureLogs.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { startOwnRedis } from '../harness/testRedis.ts';

const COMMAND_TIMEOUT_MS = 200;

async function timedGet(url: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  // The abort only keeps a hanging server from hanging the test; the assertion is on ms.
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0 };
  } catch (e) {
    throw new Error(`GET ${url}: no answer in ${Math.round(performance.now() - t0)} ms (${(e as Error).name})`);
  }
}

async function metricValue(name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((s, v) => s + Number(v.value), 0);
}

test('a frozen or stopped Redis never hangs a request: the rate limit fails open, warns once, counts', async () => {
  const redis = await startOwnRedis();
  const { url } = await testDatabase();
  const logs = captureLogs();
  const settings = loadSettings({
    DATABASE_URL: url, PORT: '0', MIGRATE_ON_START: 'false', SHED_EVENT_LOOP_DELAY_MS: '0', PGPRESS_DATA_DIR: '/tmp/pgpress-redis-hang-test',
    REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
  });
  const server = await startServer(settings, createLogger('warn', logs.stream));
  try {
    assert.equal((await timedGet(`${server.url}/v1/articles/1`)).status, 404, 'served while Redis is healthy');
    const before = await metricValue('pgpress_http_rate_limit_failures_total');
    redis.freeze();
    try {
      for (let i = 0; i < 3; i++) {
        const r = await timedGet(`${server.url}/v1/articles/1`);
        assert.equal(r.status, 404);
        // Bound: the Redis command timeout, plus slack for a loaded machine.
        assert.ok(r.ms < COMMAND_TIMEOUT_MS + 1_500, `answered in ${Math.round(r.ms)} ms with Redis frozen`);
      }
    } finally {
      redis.thaw();
    }
    assert.ok((await metricValue('pgpress_http_rate_limit_failures_total')) - before >= 3, 'each skipped check is counted');
    const warnings = logs.lines().filter((l) => String(l.msg).startsWith('rate limit skipped'));
    assert.ok(warnings.length >= 1 && warnings.length <= 2, `one summarised warning, not one per request: ${JSON.stringify(warnings)}`);

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const r = await timedGet(`${server.url}/v1/articles/1`);
      assert.equal(r.status, 404);
      assert.ok(r.ms < COMMAND_TIMEOUT_MS + 1_500, `answered in ${Math.round(r.ms)} ms with Redis stopped`);
    }
  } finally {
    redis.thaw();
    await server.close();
  }
});
