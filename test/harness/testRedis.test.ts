import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { testRedis } from './testRedis.ts';
import { REDIS_URL } from './services.ts';

test('a test file gets Redis isolated by its key prefix', async () => {
  const a = testRedis();
  const b = testRedis();
  assert.notEqual(a.prefix, b.prefix);
  await a.redis.set('k', 'from-a');
  await b.redis.set('k', 'from-b');
  assert.equal(await a.redis.get('k'), 'from-a');
  assert.equal(await b.redis.get('k'), 'from-b');
  const raw = new Redis(REDIS_URL);
  try {
    assert.equal(await raw.get(`${a.prefix}k`), 'from-a', 'keys really live under the prefix');
  } finally {
    raw.disconnect();
  }
});
