// buildApp: the Fastify application over a Store.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.ts';
import type { TokenService } from '../security/tokens.ts';
import type { Store } from '../store.ts';
import { errorHandler, failureResponses, rateLimitedResponse } from './errors.ts';
import { Idempotency } from './idempotency/idempotentWrite.ts';
import { installJsonParser } from './jsonBody.ts';
import { installLoadShedding } from './loadShedding.ts';
import type { AdmissionOptions } from './admission.ts';
import { installOpenApi } from './openapi.ts';
import { installRateLimit, type RateLimitOptions } from './rateLimit.ts';
import { WarningSummary } from './warningSummary.ts';
import { installRequestBudget } from './requestBudget.ts';
import { installRequestContext } from './requestContext.ts';
import { toJson } from '../cache/serialised.ts';
export { LSN_HEADER } from './requestContext.ts';
import { installHttpMetrics } from '../observability/httpMetricsHooks.ts';
import { installMetrics, type MetricsOptions } from './routes/metrics.ts';
import { articleRoutes } from './routes/articles.ts';
import { commentRoutes } from './routes/comments.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { engagementRoutes } from './routes/engagement.ts';
import { feedRoutes } from './routes/feed.ts';
import { healthRoutes } from './routes/health.ts';
import { userRoutes } from './routes/users.ts';

/** What the HTTP app needs. */
export interface AppOptions {
  store: Store;
  tokens: TokenService;
  logger?: Logger;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Requests per client per window (default 600 per minute; 0 turns it off). */
  rateLimit?: RateLimitOptions;
  /** Mean event-loop delay (ms) past which requests are shed with 503 (default 100; 0 turns it off). */
  shedEventLoopDelayMs?: number;
  /** At most maxInFlight requests in progress, the rest in a short bounded queue (ADMISSION_*; `serve`
   *  turns it on by default). Absent: no bound. */
  admission?: AdmissionOptions;
  /** End-to-end budget of a request (HTTP_REQUEST_BUDGET_MS, default 10 s); its database calls get what is left. */
  requestBudgetMs?: number;
  /** /readyz answers from a health snapshot at most this old (READYZ_CACHE_MS, default 1000). */
  readyzCacheMs?: number;
  /** Fastify's trustProxy (TRUST_PROXY): req.ip, the rate limit's key, is then the forwarded client. */
  trustProxy?: boolean | number | string[];
  /** GET /metrics: on its own port and/or behind a token (METRICS_*); default on the API, open. */
  metrics?: MetricsOptions;
  /** Idempotency-Key: how long answers are replayed (IDEMPOTENCY_KEY_TTL_HOURS, default 24) and the
   *  fingerprints' HMAC secret, which every instance must share (`serve` derives it from JWT_SECRET;
   *  default: random, for one instance). */
  idempotency?: { ttlHours?: number; secret?: Buffer };
}

/** Trusts the nearest `hops` proxies: X-Forwarded-For is read back that many entries. */
function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

/** Builds (but does not start) the HTTP API. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  // Fastify's logger type is narrower than pino's; a pino Logger is what Fastify expects at run time.
  const app = Fastify({
    // A logger that logs nothing is left out: Fastify's own no-op logger costs no per-request child
    // (a pino child builds its bindings: ~6 µs a request).
    ...(opts.logger && opts.logger.level !== 'silent' ? { loggerInstance: opts.logger as FastifyBaseLogger } : {}),
    bodyLimit: opts.bodyLimit ?? 1_048_576,
    // A hop count as the function Fastify would build from it (its types take no number).
    trustProxy: typeof opts.trustProxy === 'number' ? trustHops(opts.trustProxy) : (opts.trustProxy ?? false),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Strict input: no type coercion of bodies, unknown fields are errors, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // One access line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // First: requests refused by a later onRequest hook (shed, rate limited) are measured too.
  installHttpMetrics(app);
  // Per-request hooks take callbacks, not async functions: one promise less each, on every request.
  if (opts.logger && opts.logger.isLevelEnabled('info')) {
    app.addHook('onResponse', (req, reply, done) => {
      // `path`, not `url`: the logger redacts every `url` field (database URLs carry passwords).
      req.log.info({ method: req.method, path: req.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
      done();
    });
  }
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    done();
  });
  const budgetMs = opts.requestBudgetMs ?? 10_000;
  installRequestContext(app, budgetMs);
  installRequestBudget(app, budgetMs);
  // Response schemas document the API (OpenAPI) but do not drive serialisation: the content layer
  // builds every response object field by field, and V8's JSON.stringify escapes long article
  // bodies faster than fast-json-stringify (14 µs of ~200 µs per article read, measured).
  // A cached value (one shared object) is serialised once per entry, not once per response.
  app.setSerializerCompiler(() => toJson);

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ code: 'PGP_NOT_FOUND', message: `No route ${req.method} ${req.url.split('?')[0]}.`, requestId: String(req.id) });
  });
  installJsonParser(app);
  // Shed and rate-limited requests: counted (metrics) and summarised here, at most a line per 10 s.
  const refused = new WarningSummary(app.log, 'requests refused (503 shed or circuit open, 429 rate limited)');
  app.addHook('onClose', async () => refused.flush());
  app.setErrorHandler(errorHandler(refused));
  installLoadShedding(app, {
    maxEventLoopDelayMs: opts.shedEventLoopDelayMs ?? 100,
    saturated: () => opts.store.saturated(),
    ...(opts.admission ? { admission: opts.admission } : {}),
    // A scrape under load is when the figures matter; it reads the database from a cache. Readiness
    // answers from its snapshot: a probe refused for overload would take the instance out of rotation.
    exempt: ['/healthz', '/readyz', '/metrics'],
    refused,
  });
  const rl = opts.rateLimit ?? { max: 600, windowMs: 60_000 };
  await installRateLimit(app, rl, refused);
  // Every documented route lists the failures any request can meet (the probes are never rate limited).
  app.addHook('onRoute', (route) => {
    if (!route.schema?.response) return;
    const limited = rl.max > 0 && route.url !== '/healthz' && route.url !== '/readyz';
    route.schema = { ...route.schema, response: { ...failureResponses, ...(limited ? rateLimitedResponse : {}), ...(route.schema.response as object) } };
  });
  await installOpenApi(app);
  const idempotency = new Idempotency(opts.store.cluster, { ttlHours: opts.idempotency?.ttlHours ?? 24, secret: opts.idempotency?.secret ?? randomBytes(32) });
  const deps = { store: opts.store, tokens: opts.tokens, idempotency };
  await app.register(healthRoutes, { ...deps, ...(opts.readyzCacheMs === undefined ? {} : { readyzCacheMs: opts.readyzCacheMs }) });
  await app.register(userRoutes, deps);
  await app.register(articleRoutes, deps);
  await app.register(feedRoutes, deps);
  await app.register(commentRoutes, deps);
  await app.register(engagementRoutes, deps);
  await installMetrics(app, { ...opts.metrics, store: opts.store });
  await app.register(dashboardRoutes);
  return app;
}
