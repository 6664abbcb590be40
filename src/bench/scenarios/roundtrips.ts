// roundtrips: point reads of an article by id as the store makes them — getArticle on a Queryable
// that batches the reads of one event-loop turn into one `WHERE id = ANY($1)` (batchingReads,
// src/db/pointReadBatch.ts) — against the same getArticle on the Cluster, one statement per read.
// Same rows, same Cluster, rounds interleaved. At 32 callers: throughput (batch_ratio, target
// ≥ 1.5). At 1 caller: throughput and latency (p50, p99 of each round, medians over rounds;
// latency_ratio_*_1 = batched ÷ one statement, 1.0 = no cost), where a lone read is sent at once.
import { articlePointReads, getArticle } from '../../content/articles/repository.ts';
import { Cluster } from '../../db/cluster.ts';
import { batchingReads } from '../../db/pointReadBatch.ts';
import { createStore } from '../../store.ts';
import { benchDatabase } from '../benchDatabase.ts';
import { interleaved, median, medianRatio } from '../measure.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';
import { recordOp } from '../timeline.ts';

const CALLERS = 32;
const POOL = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const ROUND_MS = Number(process.env.BENCH_SECONDS ?? 1) * 1000;
const ARTICLES = Number(process.env.BENCH_ROUNDTRIPS_ARTICLES ?? 1000);

/** One round: reads per second and each read's latency percentiles (µs). */
interface Round {
  rate: number;
  p50: number;
  p99: number;
}

/** callers loops of fn for ms; every read timed. */
async function round(callers: number, ms: number, fn: (i: number) => Promise<unknown>): Promise<Round> {
  const lat: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await fn(lat.length);
        const d = performance.now() - t;
        recordOp(d);
        lat.push(d * 1000);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const at = (q: number): number => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? NaN;
  return { rate: lat.length / (ms / 1000), p50: at(0.5), p99: at(0.99) };
}

async function runRoundtrips(ctx: ScenarioContext): Promise<ScenarioResult> {
  const db = await benchDatabase();
  const store = await createStore({ url: db.url, pool: { max: 4 } });
  const cluster = new Cluster({ url: db.url, max: POOL });
  try {
    ctx.progress(0, 'articles');
    const author = await store.users.create({ email: 'bench@example.com', username: 'bench', displayName: 'Bench' });
    const ids: number[] = [];
    for (let i = 0; i < ARTICLES; i += 4) {
      const batch = Array.from({ length: Math.min(4, ARTICLES - i) }, (_, j) => store.articles.create({ authorId: author.id, title: `Article ${i + j}`, body: 'text '.repeat(50), status: 'published' }));
      ids.push(...(await Promise.all(batch)).map((a) => a.id));
    }
    const pick = (i: number): number => ids[(i * 7919) % ids.length]!;
    const reads = batchingReads(cluster, [articlePointReads(cluster)]);
    const single = (i: number): Promise<unknown> => getArticle(cluster, pick(i));
    const batched = (i: number): Promise<unknown> => getArticle(reads, pick(i));
    // Both must read the same row, or the comparison is of different work.
    if (JSON.stringify(await single(7)) !== JSON.stringify(await batched(7))) throw new Error('roundtrips bench: the variants read different rows');
    const variants = {
      single: () => round(CALLERS, ROUND_MS, single),
      batched: () => round(CALLERS, ROUND_MS, batched),
      single_1: () => round(1, ROUND_MS, single),
      batched_1: () => round(1, ROUND_MS, batched),
    };
    type Variant = keyof typeof variants;
    const names = Object.keys(variants) as Variant[];
    let done = 0;
    const runs = await interleaved(names, ROUNDS, (n) => {
      ctx.progress(0.1 + (0.9 * done++) / (names.length * (ROUNDS + 1)), n);
      return variants[n]();
    });
    const of = (n: Variant, k: keyof Round): number[] => runs[n].map((r) => r[k]);
    const m = (n: Variant, k: keyof Round): number => Math.round(median(of(n, k)));
    console.log(`point reads/s  ${CALLERS} callers: one statement each ${m('single', 'rate')}, batched ${m('batched', 'rate')}   1 caller: ${m('single_1', 'rate')}, batched ${m('batched_1', 'rate')}`);
    console.log(`1 caller latency (µs)  one statement each: p50 ${m('single_1', 'p50')} p99 ${m('single_1', 'p99')}   batched: p50 ${m('batched_1', 'p50')} p99 ${m('batched_1', 'p99')}`);
    console.log(`(${POOL} connections, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, medians)`);
    return {
      figures: {
        batch_ratio: Number(medianRatio(of('batched', 'rate'), of('single', 'rate')).toFixed(3)),
        batch_ratio_1: Number(medianRatio(of('batched_1', 'rate'), of('single_1', 'rate')).toFixed(3)),
        latency_ratio_p50_1: Number(medianRatio(of('batched_1', 'p50'), of('single_1', 'p50')).toFixed(3)),
        latency_ratio_p99_1: Number(medianRatio(of('batched_1', 'p99'), of('single_1', 'p99')).toFixed(3)),
        single_qps: m('single', 'rate'),
        batched_qps: m('batched', 'rate'),
        single_1_qps: m('single_1', 'rate'),
        batched_1_qps: m('batched_1', 'rate'),
        p50_us_single_1: m('single_1', 'p50'),
        p50_us_batched_1: m('batched_1', 'p50'),
        p99_us_single_1: m('single_1', 'p99'),
        p99_us_batched_1: m('batched_1', 'p99'),
      },
    };
  } finally {
    await cluster.close();
    await store.close();
    await db.drop();
  }
}

export const roundtrips: Scenario = {
  name: 'roundtrips',
  description: 'Point reads by id: batched per event-loop turn into one WHERE id = ANY($1) against one statement per read, at 32 callers and at 1 (throughput and latency).',
  run: runRoundtrips,
};
