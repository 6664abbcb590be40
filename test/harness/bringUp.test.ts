// The test command starts a local Redis that is down (here on a free port, then shut down again).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { bringUpRedis, listening } from './bringUp.ts';
import { freePort } from './freePort.ts';

test('a local Redis that is down is started on its URL\'s port', async () => {
  const port = await freePort();
  after(() => rmSync(join(tmpdir(), `pgpress-test-redis-${port}`), { recursive: true, force: true }));
  assert.equal(await listening('127.0.0.1', port), false);
  await bringUpRedis(`redis://127.0.0.1:${port}`);
  const redis = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    assert.equal(await redis.ping(), 'PONG');
  } finally {
    await redis.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    redis.disconnect();
  }
  assert.equal(await listening('127.0.0.1', port), false, 'shut down again');
});
