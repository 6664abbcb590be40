// An open-loop HTTP load generator: requests are sent at a fixed arrival rate whatever the server
// does (a closed loop such as autocannon's waits for an answer before the next request, so a slow
// server is offered less load and its queueing never shows). Each latency, and each timeout, runs
// from the request's scheduled start, so time spent waiting for this process's late timer or for a
// free connection counts (no coordinated omission).
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
  /** 2xx latencies from the moment the request had a connection, not from its schedule: ok less
   *  this is time it waited in this process (a late timer, every connection busy). */
  service: LatencySummary;
  /** How long each request waited in this process before it had a connection (every request). */
  waited: LatencySummary;
  /** 503 answers (shed), and how many carried Retry-After. */
  shed: number;
  shedWithRetryAfter: number;
  /** Other non-2xx answers. */
  errors: number;
  /** No answer within the timeout of its scheduled start (sent or still waiting for a connection). */
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
  /** Connections opened while the clock ran (with warm connections: only to replace one closed). */
  connectionsOpened: number;
}

/** How openLoop sends. */
export interface OpenLoopOptions {
  /** A request unanswered this long after its scheduled start is a timeout (10 s). */
  timeoutMs?: number;
  /** Connections at most (keep-alive, one request at a time each); a request finding every one busy
   *  waits for one in this process, the wait counted in its latency (1,024). */
  connections?: number;
  /** Connections to send on, opened beforehand (openConnections; the caller destroys it): the run
   *  then measures requests, not a burst of connects (a SYN the listen queue drops is retried after
   *  1 s, then 3 s, 7 s). Without it, connections open as requests need them. */
  agent?: http.Agent;
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
  waited: number[];
  shed: number;
  shedWithRetryAfter: number;
  errors: number;
  timeouts: number;
  failures: number;
}

const newTally = (): Tally => ({ sent: 0, ok: [], service: [], waited: [], shed: 0, shedWithRetryAfter: 0, errors: 0, timeouts: 0, failures: 0 });
const outcome = (t: Tally): RouteOutcome => ({ sent: t.sent, ok: summarise(t.ok), okMs: t.ok, service: summarise(t.service), waited: summarise(t.waited), shed: t.shed, shedWithRetryAfter: t.shedWithRetryAfter, errors: t.errors, timeouts: t.timeouts, failures: t.failures });

/** Offers `rate` requests per second for `seconds` to base (127.0.0.1), each the next of `next`; waits for every answer (bounded by timeoutMs). */
export async function openLoop(base: string, next: () => RoutedRequest, rate: number, seconds: number, opts: OpenLoopOptions = {}): Promise<OpenLoopResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const agent = opts.agent ?? keepAliveAgent(opts.connections ?? 1024);
  try {
    return await run(agent, new URL(base), next, rate, seconds, timeoutMs);
  } finally {
    if (!opts.agent) agent.destroy();
  }
}

/** A keep-alive agent of at most n connections, every one kept when free (the default keeps 256 and closes the rest). */
function keepAliveAgent(n: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n });
}

/**
 * Opens n keep-alive connections to base, as wrk does before it starts its clock; they stay free in
 * the agent returned, for openLoop's `agent` (the caller destroys it). A request opens a connection
 * when none is free, so waves of concurrent GET /healthz open them: each wave WAVE more requests
 * than the last, the open connections taking the rest. Why waves: n connects at once overflow the
 * server's listen queue (511 in Node) and the dropped SYNs wait 1 s, 3 s, 7 s to be retried.
 */
export async function openConnections(base: string, n: number, timeoutMs = 30_000): Promise<http.Agent> {
  const agent = keepAliveAgent(n);
  const url = new URL(base);
  const failed: string[] = [];
  const healthz = (): Promise<void> =>
    new Promise<void>((settle) => {
      const req = http.get({ agent, host: url.hostname, port: url.port, path: '/healthz' }, (res) => {
        res.resume();
        res.once('end', () => settle());
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.once('error', (e) => {
        failed.push(e.message);
        settle();
      });
    });
  for (let wave = Math.min(n, WAVE); failed.length === 0; wave = Math.min(n, wave + WAVE)) {
    await Promise.all(Array.from({ length: wave }, healthz));
    if (wave === n) break;
  }
  if (failed.length > 0) {
    agent.destroy();
    throw new Error(`openConnections: ${failed.length} requests on new connections to ${url.host} failed (first: ${failed[0]}); open fewer or check the server`);
  }
  return agent;
}

/** Connections openConnections opens at once (at most), well under a listen queue of 511. */
const WAVE = 256;

/** A request sent and not yet settled. */
interface Pending {
  scheduled: number;
  expire: () => void;
}

async function run(agent: http.Agent, url: URL, next: () => RoutedRequest, rate: number, seconds: number, timeoutMs: number): Promise<OpenLoopResult> {
  const tallies = new Map<string, Tally>();
  const all = newTally();
  // In the order sent, which is the order scheduled: the sweep stops at the first one not yet due.
  const pending = new Map<number, Pending>();
  let settled: () => void = () => {};
  const known = new WeakSet<object>();
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) known.add(s);
  let opened = 0;
  const total = Math.max(1, Math.round(rate * seconds));
  const start = performance.now();

  const send = (seq: number, scheduled: number): void => {
    const r = next();
    let t = tallies.get(r.route);
    if (!t) tallies.set(r.route, (t = newTally()));
    const route = t;
    route.sent++;
    all.sent++;
    let connected = Number.NaN;
    let finished = false;
    const finish = (kind: 'ok' | 'shed' | 'error' | 'timeout' | 'failure', retryAfter = false): void => {
      if (finished) return;
      finished = true;
      pending.delete(seq);
      const now = performance.now();
      const ms = now - scheduled;
      recordOp(ms, kind === 'ok');
      for (const x of [route, all]) {
        x.waited.push((Number.isNaN(connected) ? now : connected) - scheduled);
        if (kind === 'ok') {
          x.ok.push(ms);
          x.service.push(now - connected);
        } else if (kind === 'shed') {
          x.shed++;
          if (retryAfter) x.shedWithRetryAfter++;
        } else if (kind === 'error') x.errors++;
        else if (kind === 'timeout') x.timeouts++;
        else x.failures++;
      }
      if (pending.size === 0) settled();
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
    req.once('socket', (socket) => {
      connected = performance.now();
      if (!known.has(socket)) {
        known.add(socket);
        opened++;
      }
    });
    req.once('error', () => finish('failure'));
    // Destroying a request still waiting for a connection takes it out of the agent's queue.
    pending.set(seq, { scheduled, expire: () => (finish('timeout'), req.destroy()) });
    req.end(r.body);
  };

  // Timeouts from the scheduled start: one timer for every request, the oldest first.
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const p of pending.values()) {
      if (now - p.scheduled < timeoutMs) break;
      p.expire();
    }
  }, Math.min(100, timeoutMs / 4));
  // Sends every request whose scheduled time has come; a late tick sends the backlog at once. The
  // next tick is due at the next request's time (at least 1 ms on): why not every 1 ms — at 50 req/s
  // a thousand idle wake-ups a second cost this process more CPU than its requests, on cores it
  // shares with the server.
  let sent = 0;
  await new Promise<void>((ok) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
      while (sent < due) {
        const seq = sent++;
        send(seq, start + (seq * 1000) / rate);
      }
      if (sent >= total) ok();
      else setTimeout(tick, Math.max(1, Math.floor(start + (sent * 1000) / rate - now)));
    };
    tick();
  });
  await new Promise<void>((ok) => {
    settled = ok;
    if (pending.size === 0) ok();
  });
  clearInterval(sweeper);
  const elapsed = (performance.now() - start) / 1000;
  const answered = all.ok.length + all.shed + all.errors;
  return {
    rate,
    seconds,
    goodput: all.ok.length / Math.max(seconds, elapsed),
    answered: answered / Math.max(seconds, elapsed),
    routes: Object.fromEntries([...tallies].map(([k, t]) => [k, outcome(t)])),
    all: outcome(all),
    connectionsOpened: opened,
  };
}
