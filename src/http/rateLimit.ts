// Per-client rate limiting, shared across instances through Redis when it is configured.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { RedisClient as Redis } from '../cache/l2.ts';
import { PgpressError } from '../errors/index.ts';
import { httpMetrics } from '../observability/metrics.ts';
import { boundedRedisStore } from './rateLimitStore.ts';
import { WarningSummary } from './warningSummary.ts';

/** How the rate limit counts. */
export interface RateLimitOptions {
  max: number;
  windowMs: number;
  redis?: Redis;
  /** A Redis check that takes longer fails open (default 250 ms). */
  redisTimeoutMs?: number;
}

/**
 * Limits per client IP (req.ip: the forwarded client behind a trusted proxy). A slow or absent
 * Redis lets requests through rather than failing or holding them: counted, and warned about at
 * most once per 10 s.
 */
export async function installRateLimit(app: FastifyInstance, opts: RateLimitOptions, refused: WarningSummary): Promise<void> {
  if (opts.max === 0) return;
  const metrics = httpMetrics();
  const skipped = new WarningSummary(app.log, 'rate limit skipped: Redis did not answer; requests pass unchecked');
  app.addHook('onClose', async () => skipped.flush());
  const redis = opts.redis;
  await app.register(rateLimit, {
    max: opts.max,
    timeWindow: opts.windowMs,
    ...(redis
      ? {
          store: boundedRedisStore({
            redis,
            prefix: 'pgpress:rl:',
            timeoutMs: opts.redisTimeoutMs ?? 250,
            onFailure: (e) => {
              metrics.rateLimitFailures.inc();
              skipped.note('redis', { err: e.message });
            },
          }),
        }
      : {}),
    skipOnError: true,
    allowList: (req) => req.url === '/healthz' || req.url === '/readyz',
    onExceeded: () => {
      metrics.rateLimited.inc();
      refused.note('rate_limited');
    },
    errorResponseBuilder: (_req, ctx) =>
      new PgpressError('PGP_RATE_LIMITED', `Too many requests: the limit is ${ctx.max} per ${ctx.after}; retry after that.`),
  });
}
