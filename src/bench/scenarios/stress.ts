// stress: the arrival rate ramps up (open loop) until the service saturates; the knee is the last
// rate it served in full. Then it is offered twice the first rate past the knee: past saturation it must shed — 503 +
// Retry-After, answered at once — and keep the latency of the requests it admits bounded (admission
// control: within the queue timeout + twice the knee's service p99), with no request left without an
// answer and memory that does not grow with the backlog.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openLoop, type OpenLoopResult } from '../openLoop.ts';
import { bucketQuantileMs, diffBuckets, parseBuckets, scrapeMetrics } from '../serverHistogram.ts';
import type { ServerProcess } from '../httpLoad.ts';
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';
import { contentServer, userMix } from './contentServer.ts';

const START = Number(process.env.BENCH_STRESS_START ?? 50);
const FACTOR = Number(process.env.BENCH_STRESS_FACTOR ?? 1.5);
const STEP_SECONDS = Number(process.env.BENCH_STRESS_STEP_SECONDS ?? 4);
const MAX_STEPS = Number(process.env.BENCH_STRESS_MAX_STEPS ?? 14);
/** An admitted request slower than this at p99 means the step is past saturation. */
const P99_LIMIT_MS = Number(process.env.BENCH_STRESS_P99_MS ?? 1000);
const TIMEOUT_MS = 10_000;
/** The server's queue timeout (ADMISSION_QUEUE_TIMEOUT_MS, passed through from this environment). */
const QUEUE_TIMEOUT_MS = Number(process.env.ADMISSION_QUEUE_TIMEOUT_MS ?? 250);

/** One step of the ramp, with the server's memory after it. */
interface Step {
  rate: number;
  result: OpenLoopResult;
  rssMb: number;
}

/** Whether a step served its offered rate: ≥ 95 % answered 2xx, under 1 % shed, p99 under the limit. */
export function served(r: OpenLoopResult): boolean {
  const n = r.all.sent;
  return r.all.ok.count >= 0.95 * n && r.all.shed <= 0.01 * n && r.all.timeouts === 0 && r.all.ok.p99 <= P99_LIMIT_MS;
}

async function step(server: ServerProcess, next: ReturnType<typeof userMix>, rate: number, seconds: number): Promise<Step> {
  const result = await openLoop(server.url, next, rate, seconds, { timeoutMs: TIMEOUT_MS, maxSockets: 4096 });
  const a = result.all;
  console.log(`${rate.toFixed(0)} req/s offered: ${result.goodput.toFixed(0)} 2xx/s, ${a.shed} shed (${a.shedWithRetryAfter} with Retry-After), ${a.timeouts} timeouts, ${a.errors + a.failures} errors; admitted p50/p99/max ${a.ok.p50}/${a.ok.p99}/${a.ok.max} ms (from sending: p99 ${a.service.p99}); RSS ${server.rssMb().toFixed(0)} MiB`);
  return { rate, result, rssMb: server.rssMb() };
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
    const knee = good[good.length - 1];
    const saturatedAt = steps.find((s) => !served(s.result));
    if (!saturatedAt) console.log(`never saturated up to ${steps[steps.length - 1]!.rate.toFixed(0)} req/s (BENCH_STRESS_MAX_STEPS ${MAX_STEPS}): raise it or BENCH_STRESS_START`);
    if (!knee) throw new Error(`stress: not even ${steps[0]!.rate.toFixed(0)} req/s was served in full (${steps[0]!.result.goodput.toFixed(0)} 2xx/s): the machine is too loaded to find a knee`);
    const kneeRate = knee.rate;
    // Past the knee: twice the first rate that was not served in full (on a noisy machine a step
    // can fail on its p99 alone, so twice the knee may still be served), for two steps' time.
    const pastRate = 2 * (saturatedAt?.rate ?? kneeRate);
    ctx.progress(0.85, `past the knee: ${pastRate.toFixed(0)} req/s`);
    // The server's own histograms around the step, and this process's event-loop delay during it:
    // the client's latency less the server's is time before the server saw the request (kernel
    // queues, a starved event loop) or in this generator.
    const before = await scrapeMetrics(fx.server.url);
    const generatorLoop = monitorEventLoopDelay({ resolution: 10 });
    generatorLoop.enable();
    const past = await step(fx.server, next, pastRate, 2 * STEP_SECONDS);
    generatorLoop.disable();
    const after = await scrapeMetrics(fx.server.url);
    const served2xx = bucketQuantileMs(diffBuckets(parseBuckets(after, 'pgpress_http_request_duration_seconds', { status_class: '2xx' }), parseBuckets(before, 'pgpress_http_request_duration_seconds', { status_class: '2xx' })), 0.99);
    const waited = bucketQuantileMs(diffBuckets(parseBuckets(after, 'pgpress_http_admission_wait_seconds'), parseBuckets(before, 'pgpress_http_admission_wait_seconds')), 0.99);
    const p = past.result.all;
    const shedBy = (text: string): Map<string, number> => new Map([...text.matchAll(/^pgpress_http_shed_total\{reason="([a-z_]+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
    const shedBefore = shedBy(before);
    const shedReasons = [...shedBy(after)].map(([r, n]) => `${r}:${n - (shedBefore.get(r) ?? 0)}`).join(',');
    const rssAtKnee = knee.rssMb;
    const timeouts = steps.reduce((n, s) => n + s.result.all.timeouts, 0) + p.timeouts;
    const failures = steps.reduce((n, s) => n + s.result.all.failures, 0) + p.failures;
    const figures: Record<string, Figure> = {
      knee_rate: Math.round(kneeRate),
      knee_goodput: Math.round(knee.result.goodput),
      knee_p99_ms: knee.result.all.ok.p99,
      saturated_at_rate: saturatedAt ? Math.round(saturatedAt.rate) : Number.NaN,
      past_rate: Math.round(pastRate),
      // Past the knee: goodput ÷ the knee's (kept near 1 by shedding; a collapse falls far below).
      past_goodput_ratio: Number((past.result.goodput / Math.max(1, knee.result.goodput)).toFixed(3)),
      past_shed_share: Number((p.shed / Math.max(1, p.sent)).toFixed(3)),
      past_retry_after_share: p.shed === 0 ? 1 : Number((p.shedWithRetryAfter / p.shed).toFixed(3)),
      past_admitted_p50_ms: p.ok.p50,
      past_admitted_p99_ms: p.ok.p99,
      past_admitted_max_ms: p.ok.max,
      // The same from the moment each request was sent: without this process's own timer lag.
      past_service_p99_ms: p.service.p99,
      // What admission control promises an admitted request: at most the queue timeout waiting, then
      // served beside no more requests than at the knee — its service p99 there, with a factor 2 of slack.
      past_admitted_p99_bound_ms: Math.round(QUEUE_TIMEOUT_MS + 2 * knee.result.all.service.p99),
      past_admitted_p99_within_bound: p.service.p99 <= QUEUE_TIMEOUT_MS + 2 * knee.result.all.service.p99,
      // The server's own p99 of its 2xx answers (from its onRequest hook; the upper bound of the
      // histogram bucket holding it) and of the admission queue's waits (NaN: admission off).
      past_server_p99_le_ms: served2xx.ms,
      past_admission_wait_p99_le_ms: waited.ms,
      // This process's event-loop delay p99 during the step: the generator's own lag, in every latency it measures.
      past_generator_loop_p99_ms: Math.round(generatorLoop.percentile(99) / 1e6),
      // The server's count of 503s during the step by reason (event_loop, pool, queue_full, queue_timeout).
      past_shed_reasons: shedReasons,
      // RSS past the knee ÷ at the knee: a backlog held in memory grows it with the excess load.
      past_rss_ratio: Number((past.rssMb / rssAtKnee).toFixed(3)),
      timeouts,
      errors: timeouts + failures + steps.reduce((n, s) => n + s.result.all.errors, 0) + p.errors,
    };
    console.log(
      `knee ${figures.knee_rate} req/s (${figures.knee_goodput} 2xx/s, p99 ${figures.knee_p99_ms} ms); at ${figures.past_rate} req/s: ${(100 * Number(figures.past_shed_share)).toFixed(0)} % shed ` +
        `(${(100 * Number(figures.past_retry_after_share)).toFixed(0)} % with Retry-After), admitted p99 ${p.ok.p99} ms (from sending ${p.service.p99} ms, bound ${figures.past_admitted_p99_bound_ms}), goodput ${figures.past_goodput_ratio} of the knee's, RSS ${figures.past_rss_ratio}× the knee's, ${timeouts} timeouts`,
    );
    const all = [...steps, past];
    return {
      figures,
      charts: [
        { title: 'Stress: offered rate, goodput and shed', unit: 'req/s', x: all.map((_s, i) => i + 1), xLabel: 'step (the last: past the knee)', series: { offered: all.map((s) => s.rate), '2xx': all.map((s) => s.result.goodput), shed: all.map((s) => s.result.all.shed / s.result.seconds) } },
        { title: 'Stress: admitted latency by step', unit: 'ms', x: all.map((_s, i) => i + 1), xLabel: 'step (the last: past the knee)', series: { p50: all.map((s) => s.result.all.ok.p50), p99: all.map((s) => s.result.all.ok.p99) } },
      ],
    };
  } finally {
    await fx.close();
  }
}

export const stress: Scenario = {
  name: 'stress',
  description: 'Arrival rate ramped (open loop) until saturation; the knee, then twice the saturating rate: shedding (503 + Retry-After), admitted latency, timeouts and memory past it.',
  run: runStress,
};
