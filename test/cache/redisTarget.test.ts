// REDIS_URL forms: one server, Sentinel, Cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisTarget } from '../../src/cache/redisTarget.ts';

test('a single server, a Sentinel-managed primary and a Cluster are told apart by the URL', () => {
  assert.deepEqual(parseRedisTarget('redis://127.0.0.1:6379'), { mode: 'single', url: 'redis://127.0.0.1:6379' });
  assert.deepEqual(parseRedisTarget('redis+sentinel://:s%40cret@s1:26379,s2/mymaster/2'), {
    mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'mymaster', password: 's@cret', db: 2, tls: false,
  });
  assert.deepEqual(parseRedisTarget('redis+clusters://n1:7000,n2:7001'), { mode: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }], tls: true });
  assert.throws(() => parseRedisTarget('redis+sentinel://s1:26379'), /names the primary/);
  assert.throws(() => parseRedisTarget('http://x'), /must start with/);
});
