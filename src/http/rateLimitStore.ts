// The rate limit's Redis store with a time bound of its own: a frozen Redis (socket open, no
// answer) fails the check after timeoutMs instead of holding the request, whatever the client's
// own options.
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { RedisClient as Redis } from '../cache/l2.ts';

// The plugin's fixed-window script: INCR, set the window's expiry on the first hit, return the TTL.
const FIXED_WINDOW = `
local current = redis.call('INCR', KEYS[1])
local ttl
if current == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
else
  ttl = redis.call('PTTL', KEYS[1])
end
return {current, ttl}`;

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** How the store reaches Redis and reports a failed check. */
export interface BoundedStoreOptions {
  redis: Redis;
  prefix: string;
  timeoutMs: number;
  /** Called once per failed (timed out or refused) check; the request then goes through. */
  onFailure: (e: Error) => void;
}

/** A store class for @fastify/rate-limit's `store` option. */
export function boundedRedisStore(o: BoundedStoreOptions): new () => FastifyRateLimitStore {
  const script = o.redis as Redis & { pgpressRateLimit?: (key: string, windowMs: number) => Promise<[number, number]> };
  if (!script.pgpressRateLimit) script.defineCommand('pgpressRateLimit', { numberOfKeys: 1, lua: FIXED_WINDOW });

  class BoundedRedisStore implements FastifyRateLimitStore {
    constructor(private readonly prefix = o.prefix) {}

    incr(key: string, cb: IncrCallback, timeWindow?: number): void {
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.onFailure(e);
        cb(e);
      };
      const timer = setTimeout(() => fail(new Error(`Redis did not answer within ${o.timeoutMs} ms`)), o.timeoutMs);
      script.pgpressRateLimit!(this.prefix + key, timeWindow ?? 60_000).then(([current, ttl]) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        cb(null, { current, ttl });
      }, fail);
    }

    // A route with its own limit counts under its own keys (the plugin passes { routeInfo }).
    child(routeOptions: unknown): FastifyRateLimitStore {
      const r = (routeOptions as { routeInfo?: { method?: string; url?: string } }).routeInfo ?? {};
      return new BoundedRedisStore(`${this.prefix}${r.method ?? ''}${r.url ?? ''}-`);
    }
  }
  return BoundedRedisStore as unknown as new () => FastifyRateLimitStore;
}
