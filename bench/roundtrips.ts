// roundtrips: point reads by id, one statement per read (Cluster.query, `read: true`) against the
// same reads batched per event-loop turn into one `WHERE id = ANY($1)` (src/db/pointReadBatch.ts),
// at 32 callers (batch_ratio, target ≥ 1.5) and at 1 (batch_ratio_1: the per-turn wait must cost
// nothing there). Same rows, same columns, same Cluster; rounds interleaved, medians of per-round ratios.
import { Cluster } from '../src/db/cluster.ts';
import { PointReadBatcher } from '../src/db/pointReadBatch.ts';
import { sql } from '../src/db/sql.ts';
import { createStore } from '../src/store.ts';
import { benchDatabase, throughput } from './benchDatabase.ts';
import { interleaved, median, medianRatio } from './measure.ts';

const CALLERS = 32;
const POOL = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const ROUND_MS = Number(process.env.BENCH_SECONDS ?? 1) * 1000;
const ARTICLES = Number(process.env.BENCH_ROUNDTRIPS_ARTICLES ?? 1000);
const one = sql('bench.rt.byId', 'SELECT id::text, title, body, status, version FROM articles WHERE id = $1');
const many = sql('bench.rt.byIds', 'SELECT id::text, title, body, status, version FROM articles WHERE id = ANY($1::bigint[])');

/** batch_ratio (32 callers) and batch_ratio_1 (1 caller): batched ÷ one statement per read. */
export async function roundtrips(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const store = await createStore({ url: db.url, pool: { max: 4 } });
  const cluster = new Cluster({ url: db.url, max: POOL });
  try {
    const author = await store.users.create({ email: 'bench@example.com', username: 'bench', displayName: 'Bench' });
    const ids: number[] = [];
    for (let i = 0; i < ARTICLES; i += 4) {
      const batch = Array.from({ length: 4 }, (_, j) => store.articles.create({ authorId: author.id, title: `Article ${i + j}`, body: 'text '.repeat(50), status: 'published' }));
      ids.push(...(await Promise.all(batch)).map((a) => a.id));
    }
    const pick = (i: number): number => ids[(i * 7919) % ids.length]!;
    const batcher = new PointReadBatcher<{ id: string }>(cluster, { many, one, keyOf: (r) => Number(r.id) });
    const single = async (i: number): Promise<unknown> => (await cluster.query(one, [pick(i)], { read: true })).rows[0];
    const batched = (i: number): Promise<unknown> => batcher.load(pick(i));
    // Both must read the same row, or the comparison is of different work.
    if (JSON.stringify(await single(7)) !== JSON.stringify(await batched(7))) throw new Error('roundtrips bench: the variants read different rows');
    const variants = {
      single: () => throughput(CALLERS, ROUND_MS, single),
      batched: () => throughput(CALLERS, ROUND_MS, batched),
      single_1: () => throughput(1, ROUND_MS, single),
      batched_1: () => throughput(1, ROUND_MS, batched),
    };
    const names = Object.keys(variants) as (keyof typeof variants)[];
    const qps = await interleaved(names, ROUNDS, (n) => variants[n]());
    const m = (n: keyof typeof variants): number => Math.round(median(qps[n]));
    console.log(`point reads/s  ${CALLERS} callers: one statement each ${m('single')}, batched ${m('batched')}   1 caller: ${m('single_1')}, batched ${m('batched_1')}`);
    console.log(`(${POOL} connections, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, medians)`);
    return {
      batch_ratio: Number(medianRatio(qps.batched, qps.single).toFixed(3)),
      batch_ratio_1: Number(medianRatio(qps.batched_1, qps.single_1).toFixed(3)),
      single_qps: m('single'),
      batched_qps: m('batched'),
      single_1_qps: m('single_1'),
      batched_1_qps: m('batched_1'),
    };
  } finally {
    await cluster.close();
    await store.close();
    await db.drop();
  }
}
