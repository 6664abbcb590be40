// Cache metrics in the one registry: hits by tier, misses, stale served, invalidations by source,
// bytes per tier and the hit ratio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryCache } from '../../src/cache/queryCache.ts';
import { registry } from '../../src/observability/metrics.ts';
import { startOwnRedis } from '../harness/testRedis.ts';
import { cacheRedis, ready } from './cacheHarness.ts';

async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return m.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

test('hits, misses, stale served, invalidations, bytes and hit ratio are exported', async () => {
  const redis = await startOwnRedis();
  const r = cacheRedis(redis.url);
  await ready(r);
  const c = new QueryCache({ l1MaxBytes: 1 << 20, redis: r, namespace: 'm', ttls: { search: { freshMs: 50, staleMs: 60_000 } } });
  let n = 0;
  const l = { kind: 'search' as const, key: 'q', load: async () => ({ n: ++n, pad: 'x'.repeat(100) }), tags: () => ['search:*'] };
  for (let i = 0; i < 9; i++) await c.get(l);
  await new Promise((res) => setTimeout(res, 80));
  await c.get(l); // expired: served stale, reloaded in the background
  await c.invalidate(['search:*'], 'write');
  await c.invalidate(['article:1'], 'db');
  // The first read and the background revalidation each went to the database.
  assert.equal(await value('pgpress_cache_misses_total', { kind: 'search' }), 2);
  assert.equal(await value('pgpress_cache_hits_total', { kind: 'search', tier: 'l1' }), 8);
  assert.equal(await value('pgpress_cache_stale_served_total', { kind: 'search' }), 1);
  assert.equal(await value('pgpress_cache_invalidations_total', { source: 'write' }), 1);
  assert.equal(await value('pgpress_cache_invalidations_total', { source: 'db' }), 1);
  const text = await registry.metrics();
  assert.match(text, /pgpress_cache_bytes\{tier="l1"\} \d+/);
  assert.match(text, /pgpress_cache_bytes\{tier="l2"\} [1-9]\d*/);
  const ratio = Number(/pgpress_cache_hit_ratio ([\d.]+)/.exec(text)?.[1]);
  assert.equal(ratio, 8 / 10, 'hits ÷ (hits + misses)');
  await c.close();
});
