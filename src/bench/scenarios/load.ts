// load: concurrent users at fixed arrival rates (open loop): a mix of article reads, feed pages,
// ranked search, comment lists and writes (with a bearer token) and events, each rate run in
// interleaved rounds (rates in an order reversed every round); latency percentiles per route.
import { openLoop, summarise, type OpenLoopResult } from '../openLoop.ts';
import { roundOrder } from '../measure.ts';
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';
import { contentServer, userMix } from './contentServer.ts';

const RATES = (process.env.BENCH_LOAD_RATES ?? '100,200,400').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? 3);

async function runLoad(ctx: ScenarioContext): Promise<ScenarioResult> {
  if (RATES.some((r) => !(r > 0))) throw new Error(`BENCH_LOAD_RATES must be positive numbers, got ${process.env.BENCH_LOAD_RATES}`);
  ctx.progress(0, 'seeding');
  const fx = await contentServer();
  try {
    const next = userMix(fx.ids, fx.token);
    ctx.progress(0.1, 'warm-up');
    await openLoop(fx.server.url, next, RATES[0]!, Math.min(2, SECONDS));
    const runs = new Map<number, OpenLoopResult[]>(RATES.map((r) => [r, []]));
    const steps = ROUNDS * RATES.length;
    let step = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const rate of roundOrder(RATES, round)) {
        ctx.progress(0.1 + (0.9 * step++) / steps, `round ${round + 1}/${ROUNDS}, ${rate} req/s`);
        runs.get(rate)!.push(await openLoop(fx.server.url, next, rate, SECONDS));
      }
    }
    const figures: Record<string, Figure> = {};
    const routes = Object.keys(runs.get(RATES[0]!)![0]!.routes).sort();
    const p99ByRoute: Record<string, number[]> = Object.fromEntries(routes.map((r) => [r, []]));
    let errors = 0;
    let shed = 0;
    let timeouts = 0;
    for (const rate of RATES) {
      const rs = runs.get(rate)!;
      // Latencies of a rate pooled over its rounds (the percentiles of every request at that rate).
      const pooled = (route?: string): number[] => rs.flatMap((r) => (route ? r.routes[route]?.okMs ?? [] : r.all.okMs));
      const goodput = rs.reduce((n, r) => n + r.goodput, 0) / rs.length;
      const all = summarise(pooled());
      figures[`r${rate}_achieved_ratio`] = Number((goodput / rate).toFixed(3));
      figures[`r${rate}_p50_ms`] = all.p50;
      figures[`r${rate}_p99_ms`] = all.p99;
      const parts: string[] = [];
      for (const route of routes) {
        const s = summarise(pooled(route));
        p99ByRoute[route]!.push(s.p99);
        parts.push(`${route} ${s.p50}/${s.p95}/${s.p99}`);
        if (rate === RATES[RATES.length - 1]) {
          figures[`${route}_p50_ms`] = s.p50;
          figures[`${route}_p95_ms`] = s.p95;
          figures[`${route}_p99_ms`] = s.p99;
        }
      }
      for (const r of rs) {
        errors += r.all.errors + r.all.failures;
        shed += r.all.shed;
        timeouts += r.all.timeouts;
      }
      console.log(`${rate} req/s offered: ${goodput.toFixed(0)} 2xx/s (${((100 * goodput) / rate).toFixed(0)} %); p50/p95/p99 ms: all ${all.p50}/${all.p95}/${all.p99}; ${parts.join('; ')}`);
    }
    const top = RATES[RATES.length - 1]!;
    figures.top_rate = top;
    figures.shed = shed;
    figures.timeouts = timeouts;
    figures.errors = errors + timeouts;
    console.log(`(${ROUNDS} interleaved rounds of ${SECONDS} s per rate; per-route figures above are p50/p95/p99 in ms; ${shed} shed, ${timeouts} timeouts, ${errors} other errors)`);
    return { figures, charts: [{ title: 'p99 by route and arrival rate', unit: 'ms', x: RATES, xLabel: 'arrival rate (req/s)', series: p99ByRoute }] };
  } finally {
    await fx.close();
  }
}

export const load: Scenario = {
  name: 'load',
  description: 'Concurrent users at fixed arrival rates (open loop): reads, feed, search, comments (token) and events; latency percentiles per route and the share of the offered rate served.',
  run: runLoad,
};
