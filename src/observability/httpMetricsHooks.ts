// Request metrics: duration by route template and status class, requests in flight, 504s.
import type { FastifyInstance } from 'fastify';
import type { LabelValues } from 'prom-client';
import { httpMetrics } from './metrics.ts';

type DurationLabels = LabelValues<'method' | 'route' | 'status_class'>;

/**
 * Adds the request-metric hooks. Install first: an onRequest hook that fails (shedding, rate limit)
 * skips the onRequest hooks after it, and those refusals must be counted too.
 */
export function installHttpMetrics(app: FastifyInstance): void {
  const m = httpMetrics();
  // A request leaves the in-flight count by its response's 'close', which Node emits once per
  // response, sent or abandoned by its client: no per-request record of who left, and no
  // onRequestAbort hook (for which Fastify gives every request a listener and a closure).
  const leave = (): void => {
    m.live.inFlight--;
  };
  app.addHook('onRequest', (_req, reply, done) => {
    m.live.inFlight++;
    reply.raw.on('close', leave);
    done();
  });
  // One labels object per series, kept (the batched histogram holds it until its next batch).
  const series = new Map<string, DurationLabels>();
  app.addHook('onResponse', (req, reply, done) => {
    // The route template (`/articles/:id`), never the URL: one series per route, not per id.
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const statusClass = `${Math.floor(status / 100)}xx`;
    const key = `${req.method} ${statusClass} ${route}`;
    let labels = series.get(key);
    if (labels === undefined) series.set(key, (labels = { method: req.method, route, status_class: statusClass }));
    m.requestDuration.observe(labels, reply.elapsedTime / 1000);
    if (status === 504) m.deadlineExceeded.inc();
    done();
  });
}
