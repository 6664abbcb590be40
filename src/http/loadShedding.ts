// Load shedding and admission control: 503 + Retry-After while the event loop lags or the database
// pool is saturated (sampled signals, the backstop), and past a bound on requests in progress
// whose short queue is full or too slow (admission.ts: bounds the latency of what is admitted).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PgpressError } from '../errors/index.ts';
import { NO_LABELS } from '../observability/batchedHistogram.ts';
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

/** A request URL's path, its query string cut (no array per request, as split would make). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

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
    if (exempt.has(pathOf(req.url))) return done();
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
    if (why === undefined || exempt.has(pathOf(req.url ?? ''))) return fastify(req, res);
    count(why);
    const requestId = randomUUID();
    const body = JSON.stringify({ code: 'PGP_OVERLOADED', message: OVERLOADED_MESSAGE, requestId });
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': retryAfter, 'x-request-id': requestId });
    res.end(body);
  });
}

type Admit = (req: FastifyRequest, reply: FastifyReply, done: (e?: Error) => void) => void;

declare module 'fastify' {
  interface FastifyRequest {
    /** Ends this request's part in admission control (holding a slot or waiting for one): idempotent. */
    admissionEnd: (() => void) | null;
  }
}

/**
 * The admission hooks: a slot taken in onRequest (at once or after a wait) is given back exactly
 * once, and a wait is cancelled once, whatever ends the request. The raw response's 'close' is the
 * catch-all: Node emits it once per response, after it was sent or when the connection went away.
 * Fastify's own hooks miss one case that leaked every slot in the soak run: a client that closes the
 * connection after its request body was read (a POST in progress when a load generator stops) — the
 * request is complete, so req.aborted stays false and onRequestAbort never runs, and a response
 * written to a closed socket never emits 'finish', so onResponse never runs either.
 */
function admission(app: FastifyInstance, control: AdmissionControl, refuse: (reply: FastifyReply, reason: AdmissionRefusal, done: (e?: Error) => void) => void): Admit {
  const m = httpMetrics();
  m.admissionLimit.set(control.opts.maxInFlight);
  app.decorateRequest('admissionEnd', null);
  // onResponse gives the slot back as soon as the response is sent ('close' follows a tick later).
  app.addHook('onResponse', (req, _reply, done) => {
    req.admissionEnd?.();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    control.close();
    done();
  });
  return (req, reply, done) => {
    if (!control.tryEnter()) return wait(req, reply, done);
    // Admitted at once, the usual case: no waiter, only the slot to give back.
    if (reply.raw.destroyed) return control.leave(); // gone already ('close' was emitted): Fastify would not run it
    let held = true;
    // Assigned, not declared as a const: tsx (a checkout's runs) gives a declared closure its name
    // with a defineProperty on every request (measured: ~0.8 % of the server's CPU on this path).
    req.admissionEnd = () => {
      if (!held) return;
      held = false;
      m.live.admitted--;
      control.leave();
    };
    // 'on', not 'once': Node emits 'close' once per response, and once() wraps the listener.
    reply.raw.on('close', req.admissionEnd);
    m.live.admitted++;
    m.admissionWait.observe(NO_LABELS, 0);
    done();
  };

  /** A request that found every slot taken: it waits in the queue, or is refused. */
  function wait(req: FastifyRequest, reply: FastifyReply, done: (e?: Error) => void): void {
    /** waiting: queued (or being refused at once); holding: has a slot; ended: holds nothing, never will. */
    let state: 'waiting' | 'holding' | 'ended' = 'waiting';
    // Not const: the callbacks read it, and enter() may call them before it returns (refused at once).
    // eslint-disable-next-line prefer-const -- see above
    let w: AdmissionWaiter | undefined;
    const end = (): void => {
      if (state === 'holding') {
        state = 'ended';
        m.live.admitted--;
        control.leave();
      } else if (state === 'waiting') {
        state = 'ended';
        if (w) {
          control.cancel(w);
          m.live.queued--;
        }
      }
    };
    req.admissionEnd = end;
    reply.raw.on('close', end);
    w = control.enter(
      () => {
        if (state !== 'waiting' || reply.sent || reply.raw.destroyed) {
          // Answered by another path (e.g. the request budget's 504) or gone while it waited: the
          // slot it was just given goes straight back; Fastify would not run the request anyway.
          if (state === 'waiting' && w) m.live.queued--;
          state = 'ended';
          control.leave();
          return;
        }
        state = 'holding';
        m.live.admitted++;
        if (w) m.live.queued--;
        m.admissionWait.observe(NO_LABELS, w ? (performance.now() - w.since) / 1000 : 0);
        done();
      },
      (reason) => {
        if (state !== 'waiting') return;
        state = 'ended';
        if (w) m.live.queued--;
        if (!reply.sent) refuse(reply, reason, done);
      },
    );
    if (w && state === 'waiting') m.live.queued++;
  }
}
