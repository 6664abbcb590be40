// Redis for a test file, isolated by a key prefix that is deleted afterwards.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { REDIS_URL } from './services.ts';

/** A Redis client whose keys all start with a prefix unique to this file. */
export function testRedis(): { redis: Redis; prefix: string } {
  const prefix = `pgpress:t:${randomBytes(5).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
  after(async () => {
    // SCAN does not apply keyPrefix: match on the full prefix, delete with the raw names.
    const raw = redis.duplicate({ keyPrefix: '' });
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await raw.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    raw.disconnect();
    redis.disconnect();
  });
  return { redis, prefix };
}
