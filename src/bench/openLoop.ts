// An open-loop HTTP load generator: requests are sent at a fixed arrival rate whatever the server
// does (a closed loop such as autocannon's waits for an answer before the next request, so a slow
// server is offered less load and its queueing never shows). Each latency runs from the request's
// scheduled start, so time spent waiting for a free socket counts (no coordinated omission).
import http from 'node:http';
import { percentile, recordOp } from './timeline.ts';
import type { LoadRequest } from './httpLoad.ts';

/** A request of a mix, with the route it is reported under. */
export interface RoutedRequest extends LoadRequest {
  route: string;
}

/** Latency percentiles (ms) and counts of a set of requests. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** What one route saw. */
export interface RouteOutcome {
  sent: number;
  /** 2xx answers, and their latencies. */
  ok: LatencySummary;
  /** The 2xx latencies themselves (ms), to pool runs. */
  okMs: number[];
  /** 2xx latencies from the moment the request was handed to the socket pool, not scheduled: ok
   *  less this is time the request waited for a late timer of this (loaded) process. */
  service: LatencySummary;
  /** 503 answers (shed), and how many carried Retry-After. */
  shed: number;
  shedWithRetryAfter: number;
  /** Other non-2xx answers. */
  errors: number;
  /** No answer within the timeout. */
  timeouts: number;
  /** Connection failures. */
  failures: number;
}

/** One open-loop run. */
export interface OpenLoopResult {
  /** Offered rate, requests per second. */
  rate: number;
  seconds: number;
  /** 2xx answers per second over the run. */
  goodput: number;
  /** Every answer (2xx, 503, other) per second. */
  answered: number;
  routes: Record<string, RouteOutcome>;
  all: RouteOutcome;
}

/** Summary of latencies (ms). */
export function summarise(latencies: number[]): LatencySummary {
  const v = [...latencies].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 100) / 100;
  return { count: v.length, p50: r(percentile(v, 50)), p95: r(percentile(v, 95)), p99: r(percentile(v, 99)), max: r(percentile(v, 100)) };
}

interface Tally {
  sent: number;
  ok: number[];
  service: number[];
  shed: number;
  shedWithRetryAfter: number;
  errors: number;
  timeouts: number;
  failures: number;
}

const newTally = (): Tally => ({ sent: 0, ok: [], service: [], shed: 0, shedWithRetryAfter: 0, errors: 0, timeouts: 0, failures: 0 });
const outcome = (t: Tally): RouteOutcome => ({ sent: t.sent, ok: summarise(t.ok), okMs: t.ok, service: summarise(t.service), shed: t.shed, shedWithRetryAfter: t.shedWithRetryAfter, errors: t.errors, timeouts: t.timeouts, failures: t.failures });

/** Offers `rate` requests per second for `seconds` to base (127.0.0.1), each the next of `next`; waits for every answer (bounded by timeoutMs). */
export async function openLoop(base: string, next: () => RoutedRequest, rate: number, seconds: number, opts: { timeoutMs?: number; maxSockets?: number } = {}): Promise<OpenLoopResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 1024 });
  const url = new URL(base);
  const tallies = new Map<string, Tally>();
  const all = newTally();
  const inFlight = new Set<Promise<void>>();
  const total = Math.max(1, Math.round(rate * seconds));
  const start = performance.now();

  const send = (scheduled: number): void => {
    const r = next();
    let t = tallies.get(r.route);
    if (!t) tallies.set(r.route, (t = newTally()));
    const route = t;
    route.sent++;
    all.sent++;
    const done = new Promise<void>((settle) => {
      let finished = false;
      const finish = (kind: 'ok' | 'shed' | 'error' | 'timeout' | 'failure', retryAfter = false): void => {
        if (finished) return;
        finished = true;
        const now = performance.now();
        const ms = now - scheduled;
        recordOp(ms, kind === 'ok');
        for (const x of [route, all]) {
          if (kind === 'ok') {
            x.ok.push(ms);
            x.service.push(now - written);
          } else if (kind === 'shed') {
            x.shed++;
            if (retryAfter) x.shedWithRetryAfter++;
          } else if (kind === 'error') x.errors++;
          else if (kind === 'timeout') x.timeouts++;
          else x.failures++;
        }
        settle();
      };
      const req = http.request(
        { agent, host: url.hostname, port: url.port, method: r.method, path: r.path, headers: { ...r.headers, ...(r.body ? { 'content-length': Buffer.byteLength(r.body) } : {}) } },
        (res) => {
          res.resume();
          res.once('end', () => {
            const s = res.statusCode ?? 0;
            if (s >= 200 && s < 300) finish('ok');
            else if (s === 503) finish('shed', res.headers['retry-after'] !== undefined);
            else finish('error');
          });
          res.once('error', () => finish('failure'));
        },
      );
      req.setTimeout(timeoutMs, () => {
        finish('timeout');
        req.destroy();
      });
      req.once('error', () => finish('failure'));
      const written = performance.now();
      req.end(r.body);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };

  // Sends every request whose scheduled time has come; a late tick sends the backlog at once.
  let sent = 0;
  await new Promise<void>((ok) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      while (sent < due) send(start + (sent++ * 1000) / rate);
      if (sent >= total) ok();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  const elapsed = (performance.now() - start) / 1000;
  const answered = all.ok.length + all.shed + all.errors;
  return {
    rate,
    seconds,
    goodput: all.ok.length / Math.max(seconds, elapsed),
    answered: answered / Math.max(seconds, elapsed),
    routes: Object.fromEntries([...tallies].map(([k, t]) => [k, outcome(t)])),
    all: outcome(all),
  };
}
