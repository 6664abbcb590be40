// roundtrips: point reads of an article by id as the store makes them — getArticle on a Queryable
// that batches the reads of one event-loop turn into one `WHERE id = ANY($1)` (batchingReads,
// src/db/pointReadBatch.ts) — against the same getArticle on the Cluster, one statement per read.
// Same rows, same Cluster, rounds interleaved. At 32 callers: throughput (batch_ratio, target
// ≥ 1.5). At 1 caller: throughput and latency (p50, p99 of each round, medians over rounds;
// latency_ratio_*_1 = batched ÷ one statement, 1.0 = no cost; and this process's CPU per read,
// cpu_per_read_ratio_1, steadier than wall time on a shared machine), where a lone read is sent at once.
import type pg from 'pg';
import { articlePointReads, getArticle } from '../../content/articles/repository.ts';
import { Cluster, type Queryable } from '../../db/cluster.ts';
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

/** One round: reads per second, each read's latency percentiles and this process's CPU per read (µs). */
interface Round {
  rate: number;
  p50: number;
  p99: number;
  cpu: number;
}

/** callers loops of fn for ms; every read timed. */
async function round(callers: number, ms: number, fn: (i: number) => Promise<unknown>): Promise<Round> {
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  const at = (q: number): number => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? NaN;
  return { rate: lat.length / (ms / 1000), p50: at(0.5), p99: at(0.99), cpu: (cpu.user + cpu.system) / lat.length };
}

/**
 * What the lone path adds to a read, in ns, with no database noise: getArticle on a Queryable
 * that answers at once, directly and through batchingReads, 7 interleaved rounds (median difference).
 */
async function loneOverheadNs(): Promise<{ direct: number; added: number }> {
  const row = { id: '1', author_id: '1', title: 't', slug: 's', body: '', status: 'published', tags: [], metadata: {}, version: 1, created_at: new Date(0), updated_at: new Date(0), published_at: null };
  const answer = { command: 'SELECT', rowCount: 1, oid: 0, fields: [], rows: [row] } as unknown as pg.QueryResult;
  const instant: Queryable = { query: <R extends pg.QueryResultRow>() => Promise.resolve(answer as pg.QueryResult<R>) };
  const viaBatcher = batchingReads(instant, [articlePointReads(instant)]);
  const n = 50_000;
  const loop = async (db: Queryable): Promise<number> => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await getArticle(db, 1);
    return Number(process.hrtime.bigint() - t) / n;
  };
  const direct: number[] = [];
  const batched: number[] = [];
  for (let r = 0; r < 7; r++) {
    direct.push(await loop(instant));
    batched.push(await loop(viaBatcher));
  }
  return { direct: median(direct), added: median(batched.map((b, i) => b - direct[i]!)) };
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
    console.log(`1 caller latency (µs)  one statement each: p50 ${m('single_1', 'p50')} p99 ${m('single_1', 'p99')}   batched: p50 ${m('batched_1', 'p50')} p99 ${m('batched_1', 'p99')}   client CPU per read: ${m('single_1', 'cpu')} vs ${m('batched_1', 'cpu')}`);
    const lone = await loneOverheadNs();
    console.log(`the lone path adds ${Math.round(lone.added)} ns to a read (${Math.round(lone.direct)} ns direct, against a Queryable that answers at once)`);
    console.log(`(${POOL} connections, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, medians)`);
    return {
      figures: {
        batch_ratio: Number(medianRatio(of('batched', 'rate'), of('single', 'rate')).toFixed(3)),
        batch_ratio_1: Number(medianRatio(of('batched_1', 'rate'), of('single_1', 'rate')).toFixed(3)),
        latency_ratio_p50_1: Number(medianRatio(of('batched_1', 'p50'), of('single_1', 'p50')).toFixed(3)),
        latency_ratio_p99_1: Number(medianRatio(of('batched_1', 'p99'), of('single_1', 'p99')).toFixed(3)),
        // Client CPU per read at 1 caller, batched ÷ direct: what the lone path adds (wall time is noisier).
        cpu_per_read_ratio_1: Number(medianRatio(of('batched_1', 'cpu'), of('single_1', 'cpu')).toFixed(3)),
        lone_path_added_ns: Math.round(lone.added),
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
