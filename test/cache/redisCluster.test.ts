// The cache through a real 3-master Redis Cluster (REDIS_URL redis+cluster://…): L2 entries, pub/sub
// invalidation heard by another instance's L1, and the load lease, with every key in one slot.
import { test } from 'node:test';
import { startRedisCluster } from '../harness/redisTopology.ts';
import { assertCacheWorks, cachesOver } from './cacheHarness.ts';

test('through a Redis Cluster URL: L2 get/set, invalidation heard by the other instance, one load per key', async () => {
  const cluster = await startRedisCluster();
  await assertCacheWorks(await cachesOver(cluster.url, 'cl'), 'article:1');
});
