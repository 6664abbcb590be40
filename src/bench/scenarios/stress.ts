// stress: the arrival rate ramps up (open loop) until the service saturates; the knee is the last
// rate it served in full. Then it is offered a rate past saturation (1.5 × the knee, at least the
// first rate not served): there it must shed — 503 + Retry-After, answered at once — and keep the
// latency of the requests it admits bounded (admission control: within the queue timeout + twice the
// knee's service p99, counted from each request's scheduled send), with no request left without an
// answer and memory that does not grow with the backlog. Last, twice the past rate (the rate judged
// before: twice the first not served, ≈ 3 × the knee) is run and reported beside it (far_*), not
// judged: on two cores shared with this generator it is past what the machine, not only the server,
// can process.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { openConnections, openLoop, type OpenLoopResult } from '../openLoop.ts';
import { bucketQuantileMs, diffBuckets, parseBuckets, scrapeMetrics } from '../serverHistogram.ts';
import type { ServerProcess } from '../httpLoad.ts';
import { readTcpCounters, tcpDelta, type TcpCounters } from '../tcpCounters.ts';
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';
import { contentServer, userMix } from './contentServer.ts';

const START = Number(process.env.BENCH_STRESS_START ?? 50);
const FACTOR = Number(process.env.BENCH_STRESS_FACTOR ?? 1.5);
const STEP_SECONDS = Number(process.env.BENCH_STRESS_STEP_SECONDS ?? 4);
const MAX_STEPS = Number(process.env.BENCH_STRESS_MAX_STEPS ?? 14);
/** An admitted request slower than this at p99 means the step is past saturation. */
const P99_LIMIT_MS = Number(process.env.BENCH_STRESS_P99_MS ?? 1000);
const TIMEOUT_MS = 10_000;
/** The past-the-knee rate ÷ the knee (at least the first rate not served). */
const PAST_FACTOR = Number(process.env.BENCH_STRESS_PAST_FACTOR ?? 1.5);
/** Connections the generator keeps open at most (opened before each step's clock starts, reused, as
 *  wrk's): a step then measures requests, not a burst of connects into the listen queue. */
const CONNECTIONS = Number(process.env.BENCH_STRESS_CONNECTIONS ?? 2048);

/** A step's connections: the arrivals of P99_LIMIT_MS (more in flight and the step fails on its p99
 *  anyway; with every one busy a request waits in this process, the wait counted), 64 to CONNECTIONS. */
function connectionsFor(rate: number): number {
  return Math.max(64, Math.min(CONNECTIONS, Math.ceil((rate * P99_LIMIT_MS) / 1000)));
}
/** Past-the-knee steps at most, each PAST_FACTOR × the one before that was served in full after all
 *  (a ramp step can fail on a blip: on a quiet machine 854 req/s once shed 4 %, then 854, 1,281 and
 *  1,922 were served in full). */
const PAST_TRIES = 6;
/** The server's queue timeout (ADMISSION_QUEUE_TIMEOUT_MS, passed through from this environment). */
const QUEUE_TIMEOUT_MS = Number(process.env.ADMISSION_QUEUE_TIMEOUT_MS ?? 250);

/** One step of the ramp, with the server's memory after it and what the step cost the machine. */
interface Step {
  rate: number;
  result: OpenLoopResult;
  rssMb: number;
  /** CPU ms per request sent: this process (the generator) and the server. */
  generatorCpuMs: number;
  serverCpuMs: number;
  /** This process's event-loop delay p99 (ms): the generator's own lag, in every latency it measures. */
  generatorLoopP99Ms: number;
  /** The kernel's listen-queue overflows and SYN retransmissions during the step (machine-wide). */
  tcp: TcpCounters;
}

/** Whether a step served its offered rate: ≥ 95 % answered 2xx, under 1 % shed, p99 under the limit. */
export function served(r: OpenLoopResult): boolean {
  const n = r.all.sent;
  return r.all.ok.count >= 0.95 * n && r.all.shed <= 0.01 * n && r.all.timeouts === 0 && r.all.ok.p99 <= P99_LIMIT_MS;
}

async function step(server: ServerProcess, next: ReturnType<typeof userMix>, rate: number, seconds: number): Promise<Step> {
  // The connections open before the clock and the counters start.
  const agent = await openConnections(server.url, connectionsFor(rate));
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  const tcp0 = readTcpCounters();
  const cpu0 = process.cpuUsage();
  const server0 = server.cpuMs();
  loop.enable();
  const result = await openLoop(server.url, next, rate, seconds, { timeoutMs: TIMEOUT_MS, agent }).finally(() => agent.destroy());
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const sent = Math.max(1, result.all.sent);
  const s: Step = {
    rate,
    result,
    rssMb: server.rssMb(),
    generatorCpuMs: Number(((cpu.user + cpu.system) / 1000 / sent).toFixed(3)),
    serverCpuMs: Number(((server.cpuMs() - server0) / sent).toFixed(3)),
    generatorLoopP99Ms: Math.round(loop.percentile(99) / 1e6),
    tcp: tcpDelta(tcp0, readTcpCounters()),
  };
  const a = result.all;
  console.log(
    `${rate.toFixed(0)} req/s offered: ${result.goodput.toFixed(0)} 2xx/s, ${a.shed} shed (${a.shedWithRetryAfter} with Retry-After), ${a.timeouts} timeouts, ${a.errors + a.failures} errors; admitted p50/p99/max ${a.ok.p50}/${a.ok.p99}/${a.ok.max} ms ` +
      `(from the connection: p99 ${a.service.p99}; waited for one p99 ${a.waited.p99}); CPU/request generator ${s.generatorCpuMs} ms, server ${s.serverCpuMs} ms; generator loop p99 ${s.generatorLoopP99Ms} ms; ` +
      `${result.connectionsOpened} connections opened, listen overflows ${s.tcp.listenOverflows}, SYN retransmits ${s.tcp.synRetransmits}; RSS ${s.rssMb.toFixed(0)} MiB`,
  );
  return s;
}

/** The server's own view of a step from its /metrics before and after: 2xx p99, admission-wait p99, 503s by reason. */
function serverView(before: string, after: string): { served2xxMs: number; waitedMs: number; shedReasons: string } {
  const h = (name: string, labels?: Record<string, string>): number => bucketQuantileMs(diffBuckets(parseBuckets(after, name, labels), parseBuckets(before, name, labels)), 0.99).ms;
  const shedBy = (text: string): Map<string, number> => new Map([...text.matchAll(/^pgpress_http_shed_total\{reason="([a-z_]+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  const shedBefore = shedBy(before);
  return {
    served2xxMs: h('pgpress_http_request_duration_seconds', { status_class: '2xx' }),
    waitedMs: h('pgpress_http_admission_wait_seconds'),
    shedReasons: [...shedBy(after)].map(([r, n]) => `${r}:${n - (shedBefore.get(r) ?? 0)}`).join(','),
  };
}

/** A step with the server's /metrics scraped around it. */
async function scrapedStep(server: ServerProcess, next: ReturnType<typeof userMix>, rate: number, seconds: number): Promise<{ s: Step; view: ReturnType<typeof serverView> }> {
  const before = await scrapeMetrics(server.url);
  const s = await step(server, next, rate, seconds);
  return { s, view: serverView(before, await scrapeMetrics(server.url)) };
}

/** The figures of a step past the knee, each key after `prefix` (past_, far_). */
function stepFigures(prefix: string, { s, view }: Awaited<ReturnType<typeof scrapedStep>>, knee: Step): Record<string, Figure> {
  const a = s.result.all;
  const figures: Record<string, Figure> = {
    rate: Math.round(s.rate),
    // Goodput ÷ the knee's (kept near 1 by shedding; a collapse falls far below).
    goodput_ratio: Number((s.result.goodput / Math.max(1, knee.result.goodput)).toFixed(3)),
    shed_share: Number((a.shed / Math.max(1, a.sent)).toFixed(3)),
    retry_after_share: a.shed === 0 ? 1 : Number((a.shedWithRetryAfter / a.shed).toFixed(3)),
    // Admitted (2xx) latency from each request's scheduled send: timer lag, a wait for a connection and all.
    admitted_p99_ms: a.ok.p99,
    // The same from the moment the request had a connection: without this process's own lag.
    service_p99_ms: a.service.p99,
    // How long requests waited in this process for their send (a late timer, every connection busy).
    generator_wait_p99_ms: a.waited.p99,
    // The server's own p99 of its 2xx answers (from its onRequest hook; the upper bound of the
    // histogram bucket holding it).
    server_p99_le_ms: view.served2xxMs,
    timeouts: a.timeouts,
    // CPU ms per request offered, this process and the server's (from /proc): what each request costs on the shared cores.
    generator_cpu_ms: s.generatorCpuMs,
    server_cpu_ms: s.serverCpuMs,
    // The kernel's listen-queue overflows during the step (a machine-wide counter).
    listen_overflows: s.tcp.listenOverflows,
    // RSS ÷ at the knee: a backlog held in memory grows it with the excess load.
    rss_ratio: Number((s.rssMb / knee.rssMb).toFixed(3)),
  };
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${prefix}_${k}`, v]));
}

async function runStress(ctx: ScenarioContext): Promise<ScenarioResult> {
  ctx.progress(0, 'seeding');
  // Shedding and admission control at their defaults (or as this environment sets ADMISSION_*,
  // SHED_*: the server process inherits it): what is under test.
  const fx = await contentServer();
  try {
    const next = userMix(fx.ids, fx.token);
    await openLoop(fx.server.url, next, START, Math.min(2, STEP_SECONDS)); // warm-up
    const steps: Step[] = [];
    let rate = START;
    // A machine that cannot serve the starting rate (a loaded one): halve it until it can, down to 5 req/s.
    for (;;) {
      const probe = await step(fx.server, next, rate, STEP_SECONDS);
      if (served(probe.result) || rate / FACTOR < 5) {
        steps.push(probe);
        rate *= FACTOR;
        if (!served(probe.result)) rate = Number.POSITIVE_INFINITY; // nothing served: no ramp
        break;
      }
      rate /= 2;
    }
    for (let i = 1; i < MAX_STEPS && Number.isFinite(rate) && served(steps[steps.length - 1]!.result); i++, rate *= FACTOR) {
      ctx.progress(0.05 + (0.75 * i) / MAX_STEPS, `ramp: ${rate.toFixed(0)} req/s`);
      steps.push(await step(fx.server, next, rate, STEP_SECONDS));
    }
    const good = steps.filter((s) => served(s.result));
    let knee = good[good.length - 1];
    const saturatedAt = steps.find((s) => !served(s.result));
    if (!saturatedAt) console.log(`never saturated up to ${steps[steps.length - 1]!.rate.toFixed(0)} req/s (BENCH_STRESS_MAX_STEPS ${MAX_STEPS}): raise it or BENCH_STRESS_START`);
    if (!knee) throw new Error(`stress: not even ${steps[0]!.rate.toFixed(0)} req/s was served in full (${steps[0]!.result.goodput.toFixed(0)} 2xx/s): the machine is too loaded to find a knee`);
    // Past the knee: PAST_FACTOR × the knee, and at least the first rate not served in full, for two
    // steps' time. Why not twice the first rate not served (≈ 3 × the knee, this scenario's rate
    // before): on two cores the generator's own CPU grows with the offered rate, and there the
    // machine cannot even read the requests to refuse them; that rate is still run, last, and
    // reported as far_*. A step that is served in full after all was not past the knee (on a noisy
    // machine a ramp step can fail on its p99 alone, or the load around it drop): it becomes the
    // knee and the rate goes up by PAST_FACTOR again, PAST_TRIES times at most.
    let pastRate = Math.max(PAST_FACTOR * knee.rate, saturatedAt?.rate ?? 0);
    const notPast: Step[] = [];
    let run: Awaited<ReturnType<typeof scrapedStep>>;
    for (;;) {
      ctx.progress(0.75 + 0.05 * notPast.length, `past the knee: ${pastRate.toFixed(0)} req/s`);
      // The server's own histograms around the step: the client's latency less the server's is time
      // before the server saw the request (kernel queues, a starved event loop) or in this generator.
      run = await scrapedStep(fx.server, next, pastRate, 2 * STEP_SECONDS);
      if (!served(run.s.result) || notPast.length + 1 >= PAST_TRIES) break;
      console.log(`${pastRate.toFixed(0)} req/s was served in full: not past the knee yet`);
      notPast.push(run.s);
      knee = run.s;
      pastRate *= PAST_FACTOR;
    }
    const { s: past, view } = run;
    const kneeRate = knee.rate;
    const farRate = 2 * pastRate;
    // One step's time, not two: it is reported, not judged, and a smoke run of three scenarios has 300 s.
    ctx.progress(0.9, `far past the knee: ${farRate.toFixed(0)} req/s`);
    const far = await scrapedStep(fx.server, next, farRate, STEP_SECONDS);
    const p = past.result.all;
    const f = far.s.result.all;
    const judged = [...steps, ...notPast, past];
    const timeouts = judged.reduce((n, s) => n + s.result.all.timeouts, 0);
    const failures = judged.reduce((n, s) => n + s.result.all.failures, 0);
    // What admission control promises an admitted request: at most the queue timeout waiting, then
    // served beside no more requests than at the knee — its service p99 there, with a factor 2 of
    // slack. Judged from each request's scheduled send, as an open-loop client sees it.
    const bound = Math.round(QUEUE_TIMEOUT_MS + 2 * knee.result.all.service.p99);
    const figures: Record<string, Figure> = {
      knee_rate: Math.round(kneeRate),
      knee_goodput: Math.round(knee.result.goodput),
      knee_p99_ms: knee.result.all.ok.p99,
      saturated_at_rate: saturatedAt ? Math.round(saturatedAt.rate) : Number.NaN,
      ...stepFigures('past', run, knee),
      // Whether the step was past saturation (not served in full), and the steps tried to get there.
      past_saturated: !served(past.result),
      past_attempts: notPast.length + 1,
      past_admitted_p50_ms: p.ok.p50,
      past_admitted_max_ms: p.ok.max,
      past_admitted_p99_bound_ms: bound,
      past_admitted_p99_within_bound: p.ok.p99 <= bound,
      // The server's p99 of the admission queue's waits (NaN: admission off).
      past_admission_wait_p99_le_ms: view.waitedMs,
      past_generator_loop_p99_ms: past.generatorLoopP99Ms,
      // Connections opened during the step (the generator's are open before it starts) and SYN retransmissions meanwhile.
      past_connections_opened: past.result.connectionsOpened,
      past_syn_retransmits: past.tcp.synRetransmits,
      // The server's count of 503s during the step by reason (event_loop, pool, queue_full, queue_timeout).
      past_shed_reasons: view.shedReasons,
      // Twice the past rate (the old past rate, twice the first not served): reported, not judged.
      ...stepFigures('far', far, knee),
      far_errors: f.errors + f.failures,
      // Ramp and past-the-knee steps (the far step's are far_timeouts, far_errors).
      timeouts,
      errors: timeouts + failures + judged.reduce((n, s) => n + s.result.all.errors, 0),
    };
    console.log(
      `knee ${figures.knee_rate} req/s (${figures.knee_goodput} 2xx/s, p99 ${figures.knee_p99_ms} ms); at ${figures.past_rate} req/s: ${(100 * Number(figures.past_shed_share)).toFixed(0)} % shed ` +
        `(${(100 * Number(figures.past_retry_after_share)).toFixed(0)} % with Retry-After), admitted p99 ${p.ok.p99} ms from the scheduled send (bound ${bound}: ${p.ok.p99 <= bound ? 'within' : 'NOT within'}; from the connection ${p.service.p99} ms), goodput ${figures.past_goodput_ratio} of the knee's, RSS ${figures.past_rss_ratio}× the knee's, ${p.timeouts} timeouts; ` +
        `at ${figures.far_rate} req/s (not judged): ${(100 * Number(figures.far_shed_share)).toFixed(0)} % shed, admitted p99 ${f.ok.p99} ms, ${f.timeouts} timeouts`,
    );
    const all = [...judged, far.s];
    return {
      figures,
      charts: [
        { title: 'Stress: offered rate, goodput and shed', unit: 'req/s', x: all.map((_s, i) => i + 1), xLabel: 'step (the last two: past the knee, far past it)', series: { offered: all.map((s) => s.rate), '2xx': all.map((s) => s.result.goodput), shed: all.map((s) => s.result.all.shed / s.result.seconds) } },
        { title: 'Stress: admitted latency by step', unit: 'ms', x: all.map((_s, i) => i + 1), xLabel: 'step (the last two: past the knee, far past it)', series: { p50: all.map((s) => s.result.all.ok.p50), p99: all.map((s) => s.result.all.ok.p99) } },
      ],
    };
  } finally {
    await fx.close();
  }
}

export const stress: Scenario = {
  name: 'stress',
  description: 'Arrival rate ramped (open loop) until saturation; the knee, then 1.5 × it (and, reported, twice the saturating rate): shedding (503 + Retry-After), admitted latency, timeouts and memory past it.',
  run: runStress,
};
