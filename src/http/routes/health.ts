// Liveness and readiness probes.
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './deps.ts';

/** GET /healthz (process alive) and GET /readyz (database reachable, migrations current). */
export async function healthRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const r = await opts.store.readiness();
    return reply.status(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not_ready', ...r });
  });
}
