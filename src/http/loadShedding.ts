// Load shedding and admission control: 503 + Retry-After while the event loop lags or the database
// pool is saturated (sampled signals, the backstop), and past a bound on requests in progress
// whose short queue is full or too slow (admission.ts: bounds the latency of what is admitted).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PgpressError } from '../errors/index.ts';
import { httpMetrics } from '../observability/metrics.ts';
import { AdmissionControl, type AdmissionOptions, type AdmissionRefusal, type AdmissionWaiter } from './admission.ts';
import type { WarningSummary } from './warningSummary.ts';

/** When to shed. */
export interface SheddingOptions {
  /** Shed while the event loop's mean delay over the last half second exceeds this (0: never). */
  maxEventLoopDelayMs: number;
  /** Extra pressure signal, e.g. callers queued on the database pool. */
  saturated?: () => boolean;
  /** At most this many requests in progress, the rest in a short bounded queue (absent or
   *  maxInFlight 0: no bound). */
  admission?: AdmissionOptions;
  /** Seconds a shed client is told to wait. */
  retryAfterSeconds?: number;
  /** Paths that always answer (liveness, readiness, metrics): never shed nor queued. */
  exempt?: readonly string[];
  /** Where shed requests are counted for the summarised warning (not one log line each). */
  refused?: WarningSummary;
}

const SAMPLE_MS = 500;

/** Registers the onRequest hooks that refuse or queue work under pressure; probes stay exempt. */
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
  const m = httpMetrics();
  const refuse = (reply: FastifyReply, reason: string, done: (e?: Error) => void): void => {
    m.shed.inc({ reason });
    opts.refused?.note(`shed_${reason}`);
    void reply.header('retry-after', retryAfter);
    done(new PgpressError('PGP_OVERLOADED', OVERLOADED_MESSAGE));
  };
  const control = opts.admission && opts.admission.maxInFlight > 0 ? new AdmissionControl(opts.admission) : undefined;
  const admit = control ? admission(app, control, refuse) : undefined;
  app.addHook('onRequest', (req, reply, done) => {
    if (exempt.has(req.url.split('?')[0]!)) return done();
    const reason = lagging ? 'event_loop' : opts.saturated?.() ? 'pool' : undefined;
    if (reason !== undefined) return refuse(reply, reason, done);
    if (admit) return admit(req, reply, done);
    done();
  });
  refuseBeforeFastify(app, exempt, retryAfter, () => (lagging ? 'event_loop' : opts.saturated?.() ? 'pool' : control?.full() ? 'queue_full' : undefined), (reason) => {
    m.shed.inc({ reason });
    opts.refused?.note(`shed_${reason}`);
  });
}

const OVERLOADED_MESSAGE = 'The server is overloaded; retry after the time in the Retry-After header.';

/**
 * Answers a request the hooks would refuse anyway (event loop lagging, pool saturated, admission
 * queue full) from the HTTP server's own request event, before Fastify builds a request, runs its
 * hooks and error handler: a canned 503 costs about a third as much (2.7–6.8× the refusals per
 * second, measured), and when the process is short of CPU the refusals are most of its work —
 * every one saved is time the requests waiting in the kernel's queues do not wait. Such a refusal
 * counts in pgpress_http_shed_total only (not in the request histogram). inject() never reaches it.
 */
function refuseBeforeFastify(app: FastifyInstance, exempt: ReadonlySet<string>, retryAfter: string, reason: () => string | undefined, count: (reason: string) => void): void {
  const server = app.server;
  const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (handlers.length !== 1) return; // not the server Fastify made: leave it alone
  const fastify = handlers[0]!;
  server.removeListener('request', fastify);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const why = reason();
    if (why === undefined || exempt.has((req.url ?? '').split('?')[0]!)) return fastify(req, res);
    count(why);
    const requestId = randomUUID();
    const body = JSON.stringify({ code: 'PGP_OVERLOADED', message: OVERLOADED_MESSAGE, requestId });
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': retryAfter, 'x-request-id': requestId });
    res.end(body);
  });
}

type Admit = (req: FastifyRequest, reply: FastifyReply, done: (e?: Error) => void) => void;

/** The admission hooks: a slot taken in onRequest (at once or after a wait) is given back once,
 *  when the response is sent or the client goes away. */
function admission(app: FastifyInstance, control: AdmissionControl, refuse: (reply: FastifyReply, reason: AdmissionRefusal, done: (e?: Error) => void) => void): Admit {
  const m = httpMetrics();
  m.admissionLimit.set(control.opts.maxInFlight);
  const holding = new WeakSet<FastifyRequest>();
  const waiting = new WeakMap<FastifyRequest, AdmissionWaiter>();
  const leave = (req: FastifyRequest): void => {
    if (!holding.delete(req)) return;
    m.admissionInFlight.dec();
    control.leave();
  };
  app.addHook('onResponse', (req, _reply, done) => {
    leave(req);
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    const w = waiting.get(req);
    if (w) {
      waiting.delete(req);
      control.cancel(w);
      m.admissionQueued.dec();
    }
    leave(req);
    done();
  });
  app.addHook('onClose', (_app, done) => {
    control.close();
    done();
  });
  return (req, reply, done) => {
    const w = control.enter(
      () => {
        holding.add(req);
        m.admissionInFlight.inc();
        const queued = waiting.delete(req);
        if (queued) m.admissionQueued.dec();
        m.admissionWait.observe(queued ? (performance.now() - w!.since) / 1000 : 0);
        done();
      },
      (reason) => {
        if (waiting.delete(req)) m.admissionQueued.dec();
        refuse(reply, reason, done);
      },
    );
    if (w) {
      waiting.set(req, w);
      m.admissionQueued.inc();
    }
  };
}
