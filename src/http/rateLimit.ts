// Per-client rate limiting, shared across instances through Redis when it is configured.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { PgpressError } from '../errors/index.ts';

/** Limits per client IP; a Redis outage lets requests through rather than failing them. */
export async function installRateLimit(app: FastifyInstance, opts: { max: number; windowMs: number; redis?: Redis }): Promise<void> {
  if (opts.max === 0) return;
  await app.register(rateLimit, {
    max: opts.max,
    timeWindow: opts.windowMs,
    ...(opts.redis ? { redis: opts.redis, nameSpace: 'pgpress:rl:' } : {}),
    skipOnError: true,
    allowList: (req) => req.url === '/healthz' || req.url === '/readyz',
    errorResponseBuilder: (_req, ctx) =>
      new PgpressError('PGP_RATE_LIMITED', `Too many requests: the limit is ${ctx.max} per ${ctx.after}; retry after that.`),
  });
}
