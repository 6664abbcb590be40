// Liveness and readiness probes.
import type { FastifyInstance } from 'fastify';
import type { Readiness } from '../../store.ts';
import { readinessSnapshot } from '../readinessSnapshot.ts';
import type { RouteDeps } from './deps.ts';

const readinessBody = {
  type: 'object',
  required: ['status', 'ready', 'database', 'targets'],
  properties: { status: { type: 'string', enum: ['ready', 'not_ready'] }, ready: { type: 'boolean' }, database: { type: 'object' }, targets: { type: 'array', items: { type: 'object' } } },
} as const;

/** GET /healthz (process alive) and GET /readyz (database reachable, migrations current). */
export async function healthRoutes(app: FastifyInstance, opts: RouteDeps & { readyzCacheMs?: number }): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));
  const readiness = readinessSnapshot(() => opts.store.readiness(), opts.readyzCacheMs ?? 1_000);
  let lastLogged: Readiness | undefined;

  // A public probe: states and counts only. Target URLs and error texts name the database's hosts
  // and internals; they go to the log here and to `pgpress doctor`.
  app.get('/readyz', { schema: { response: { 200: readinessBody, 503: { ...readinessBody, headers: { 'retry-after': { type: 'integer' } } } } } }, async (req, reply) => {
    const r = await readiness();
    // Once per snapshot, not once per probe.
    if (!r.ready && r !== lastLogged) {
      lastLogged = r;
      req.log.warn({ database: r.database, targets: r.targets }, 'not ready');
    }
    const targets = r.targets.map(({ url: _url, error: _error, ...t }) => t);
    const { error: _dbError, ...database } = r.database;
    if (!r.ready) void reply.header('retry-after', '1');
    return reply.status(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not_ready', ready: r.ready, database, targets });
  });
}
