// The cache through a real Sentinel-managed primary (REDIS_URL redis+sentinel://…/name), before and
// after a failover: the clients follow the Sentinel to the promoted replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisSentinel } from '../harness/redisTopology.ts';
import { assertCacheWorks, cachesOver } from './cacheHarness.ts';

test('through a Sentinel URL: the cache works, and after SENTINEL FAILOVER it works on the new primary', async () => {
  const sentinel = await startRedisSentinel();
  const first = await sentinel.primaryPort();
  const caches = await cachesOver(sentinel.url, 'sn');
  await assertCacheWorks(caches, 'article:1');
  const promoted = await sentinel.failover();
  assert.notEqual(promoted, first);
  // The clients notice the switch (the old primary drops them, or answers READONLY) and reconnect
  // through the Sentinel; until then L2 is skipped. Within 15 s everything works on the new primary.
  const t0 = Date.now();
  for (let round = 0; ; round++) {
    try {
      await assertCacheWorks(caches, `article:${100 + round}`);
      break;
    } catch (e) {
      if (Date.now() - t0 > 15_000) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  console.log(`cache working on the promoted primary ${Date.now() - t0} ms after the failover`);
});
