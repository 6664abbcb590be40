// A bench scenario that needs Redis (cache) asks it once before doing anything: a Redis that does
// not answer fails the scenario at once with PGP_SERVICE_MISSING and what to start, rather than
// minutes later inside a server's log.
import { redactUrl } from '../config/settings.ts';
import { createRedisClient } from '../cache/redisTarget.ts';
import { PgpressError } from '../errors/index.ts';

const TIMEOUT_MS = 3_000;

/** Resolves when Redis at url answers PING within 3 s; else throws PGP_SERVICE_MISSING naming who needs it. */
export async function assertRedisAnswers(url: string, neededBy: string): Promise<void> {
  let why: string | undefined;
  let socketError: string | undefined;
  const redis = createRedisClient(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: TIMEOUT_MS, commandTimeout: TIMEOUT_MS, retryStrategy: () => null });
  // The socket's own error (ECONNREFUSED, ENOTFOUND) says more than the rejection's "Connection is closed".
  redis.on('error', (e: Error) => void (socketError ??= e.message));
  try {
    // A Cluster client connects by itself (lazyConnect is a per-node option there).
    if (redis.status === 'wait') await redis.connect();
    await redis.ping();
  } catch (e) {
    why = socketError ?? (e as Error).message;
  } finally {
    redis.disconnect();
  }
  if (why === undefined) return;
  throw new PgpressError(
    'PGP_SERVICE_MISSING',
    `Redis at ${redactUrl(url)} does not answer (${why}); ${neededBy} needs it. Start Redis (Debian: apt-get install redis-server), or set REDIS_URL to one that runs.`,
  );
}
