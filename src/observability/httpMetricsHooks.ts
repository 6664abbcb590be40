// Request metrics: duration by route template and status class, requests in flight, 504s.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpMetrics } from './metrics.ts';

/**
 * Adds the request-metric hooks. Install first: an onRequest hook that fails (shedding, rate limit)
 * skips the onRequest hooks after it, and those refusals must be counted too.
 */
export function installHttpMetrics(app: FastifyInstance): void {
  const m = httpMetrics();
  // A request leaves the in-flight count once, by its response or by its client aborting.
  const open = new WeakSet<FastifyRequest>();
  const leave = (req: FastifyRequest): void => {
    if (open.delete(req)) m.inFlight.dec();
  };
  app.addHook('onRequest', (req, _reply, done) => {
    open.add(req);
    m.inFlight.inc();
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    leave(req);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    leave(req);
    // The route template (`/articles/:id`), never the URL: one series per route, not per id.
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    m.requestDuration.observe({ method: req.method, route, status_class: `${Math.floor(status / 100)}xx` }, reply.elapsedTime / 1000);
    if (status === 504) m.deadlineExceeded.inc();
    done();
  });
}
