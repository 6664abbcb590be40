// GET /metrics: Prometheus text format, on the API or on its own port, optionally behind a token.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Store } from '../../store.ts';
import { PgpressError } from '../../errors/index.ts';
import { createDbCollectorRegistry } from '../../observability/collectors/registry.ts';
import { METRICS_CONTENT_TYPE, bearerMatches, renderMetrics } from '../../observability/exposition.ts';
import { enableProcessMetrics } from '../../observability/metrics.ts';

/** Where and how /metrics is served. */
export interface MetricsOptions {
  /** Serve /metrics on its own port on this host instead of the API (METRICS_PORT; 0 or unset: on the API). */
  port?: number;
  host?: string;
  /** Scrapers must send `Authorization: Bearer <token>` (METRICS_TOKEN). */
  token?: string | undefined;
  /** Database figures are read at most this often (METRICS_DB_CACHE_MS, default 10 s). */
  dbCacheMs?: number;
  /** pg_stat_statements series kept (METRICS_STATEMENTS_TOP_K, default 20). */
  statementsTopK?: number;
}

/** Registers GET /metrics on app, serving the process metrics and store's database collectors. */
export async function metricsRoutes(app: FastifyInstance, opts: MetricsOptions & { store: Store; log?: FastifyBaseLogger }): Promise<void> {
  enableProcessMetrics();
  const log = opts.log ?? app.log;
  const { registry } = createDbCollectorRegistry(opts.store.cluster, {
    cacheMs: opts.dbCacheMs ?? 10_000,
    statementsTopK: opts.statementsTopK ?? 20,
    warn: (message, error) => log.warn({ err: error }, message),
  });
  const token = opts.token;
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      void reply.header('www-authenticate', 'Bearer');
      throw new PgpressError('PGP_UNAUTHORIZED', 'GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`.');
    }
    return reply.type(METRICS_CONTENT_TYPE).send(await renderMetrics([registry]));
  });
}

/** Installs /metrics on the API, or on a server of its own started and stopped with the API's. */
export async function installMetrics(app: FastifyInstance, opts: MetricsOptions & { store: Store }): Promise<void> {
  if (!opts.port) {
    await app.register(metricsRoutes, opts);
    return;
  }
  const own = Fastify({ forceCloseConnections: true });
  own.setErrorHandler((e, _req, reply) => {
    const status = e instanceof PgpressError ? e.status : 500;
    void reply.status(status).send({ code: e instanceof PgpressError ? e.code : 'PGP_INTERNAL', message: e instanceof PgpressError ? e.message : 'Metrics failed; see the log.' });
  });
  await own.register(metricsRoutes, { ...opts, log: app.log });
  const port = opts.port;
  const host = opts.host ?? '127.0.0.1';
  app.addHook('onReady', async () => {
    try {
      await own.listen({ host, port });
    } catch (e) {
      const inUse = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw new PgpressError('PGP_CONFIG_INVALID', inUse ? `METRICS_PORT ${host}:${port} is in use; stop what holds it or choose another port.` : `Cannot serve /metrics on ${host}:${port}: ${(e as Error).message}`, { cause: e });
    }
  });
  app.addHook('onClose', async () => {
    await own.close();
  });
}
