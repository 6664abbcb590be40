// The service's Redis client: every command bounded, nothing queued while disconnected.
import type { RedisClient } from '../cache/l2.ts';
import { createRedisClient } from '../cache/redisTarget.ts';
import type { Logger } from '../observability/logger.ts';

/** How often a reconnect loop may log that Redis is unavailable. */
const WARN_EVERY_MS = 10_000;
const CONNECT_TIMEOUT_MS = 2_000;

/**
 * A client whose commands fail after commandTimeoutMs (a frozen server keeps its socket open and
 * answers nothing: without the timeout a command waits for ever) and fail at once while
 * disconnected (no offline queue); it reconnects in the background. Resolves once connected, or
 * after the connect timeout with the client still trying (the service starts without Redis).
 */
export async function connectRedis(url: string, commandTimeoutMs: number, logger: Logger): Promise<RedisClient> {
  // One server, a Sentinel-managed primary or a Cluster, by the URL's scheme (see redisTarget.ts).
  const redis = createRedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let lastWarn = -Infinity;
  let suppressed = 0;
  redis.on('error', (e: Error) => {
    // A reconnect loop reports every attempt: one line per interval, with how many were skipped.
    if (Date.now() - lastWarn < WARN_EVERY_MS) {
      suppressed++;
      return;
    }
    lastWarn = Date.now();
    logger.warn({ err: e.message, suppressed }, 'redis unavailable: rate limits are skipped until it answers');
    suppressed = 0;
  });
  await new Promise<void>((ok) => {
    const timer = setTimeout(ok, CONNECT_TIMEOUT_MS);
    timer.unref();
    redis.once('ready', () => {
      clearTimeout(timer);
      ok();
    });
  });
  return redis;
}
