// Load shedding: 503 + Retry-After while the event loop lags or the database pool is saturated.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { PgpressError } from '../errors/index.ts';
import { httpMetrics } from '../observability/metrics.ts';
import type { WarningSummary } from './warningSummary.ts';

/** When to shed. */
export interface SheddingOptions {
  /** Shed while the event loop's mean delay over the last half second exceeds this (0: never). */
  maxEventLoopDelayMs: number;
  /** Extra pressure signal, e.g. callers queued on the database pool. */
  saturated?: () => boolean;
  /** Seconds a shed client is told to wait. */
  retryAfterSeconds?: number;
  /** Paths that always answer (liveness). */
  exempt?: readonly string[];
  /** Where shed requests are counted for the summarised warning (not one log line each). */
  refused?: WarningSummary;
}

const SAMPLE_MS = 500;

/** Registers an onRequest hook that refuses work under pressure; probes stay exempt. */
export function installLoadShedding(app: FastifyInstance, opts: SheddingOptions): void {
  const exempt = new Set(opts.exempt ?? ['/healthz']);
  const retryAfter = String(opts.retryAfterSeconds ?? 1);
  let lagging = false;
  let timer: NodeJS.Timeout | undefined;
  if (opts.maxEventLoopDelayMs > 0) {
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    timer = setInterval(() => {
      // The mean, not a high percentile: one GC pause or lazy module load is a single late tick and
      // must not refuse traffic; sustained overload makes every tick late.
      lagging = histogram.count > 0 && histogram.mean / 1e6 > opts.maxEventLoopDelayMs;
      histogram.reset();
    }, SAMPLE_MS);
    timer.unref();
    // Start-up (module loading, migrations) stalls the loop before the first request: not overload.
    app.addHook('onReady', (done) => {
      histogram.reset();
      lagging = false;
      done();
    });
    app.addHook('onClose', async () => {
      clearInterval(timer);
      histogram.disable();
    });
  }
  const shed = httpMetrics().shed;
  app.addHook('onRequest', (req, reply, done) => {
    const reason = lagging ? 'event_loop' : opts.saturated?.() ? 'pool' : undefined;
    if (reason !== undefined && !exempt.has(req.url.split('?')[0]!)) {
      shed.inc({ reason });
      opts.refused?.note(`shed_${reason}`);
      void reply.header('retry-after', retryAfter);
      done(new PgpressError('PGP_OVERLOADED', 'The server is overloaded; retry after the time in the Retry-After header.'));
      return;
    }
    done();
  });
}
