// cluster: point reads with more callers than connections through Cluster (lanes, deadlines,
// retry, breaker, metrics) vs a bare pg.Pool on pg's fastest path (the one the Cluster uses) vs
// bare postgres.js (max_pipeline: 1). Rounds interleaved; medians of per-round ratios.
import pg from 'pg';
import postgres from 'postgres';
import { Cluster } from '../src/db/cluster.ts';
import { createStore } from '../src/store.ts';
import { articleById } from '../src/content/articles/queries.ts';
import { benchDatabase, throughput } from './benchDatabase.ts';
import { queryRows } from './barePg.ts';
import { interleaved, median, medianRatio } from './measure.ts';

const CALLERS = 64;
const POOL = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const ROUND_MS = Number(process.env.BENCH_SECONDS ?? 0.8) * 1000;
/** Articles the reads pick from (BENCH_CLUSTER_ARTICLES; the smoke run makes 200: each is an API write). */
const ARTICLES = Number(process.env.BENCH_CLUSTER_ARTICLES ?? 1000);

/** ratio = Cluster ÷ bare pg; ratio_postgresjs = Cluster ÷ postgres.js (medians of per-round ratios). */
export async function clusterBench(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const store = await createStore({ url: db.url });
  const bare = new pg.Pool({ connectionString: db.url, max: POOL });
  bare.on('error', () => undefined); // the database is dropped WITH (FORCE) at the end
  // max_pipeline is a postgres.js option its type definitions do not list.
  const pjsOptions = { max: POOL, max_pipeline: 1, prepare: true, onnotice: () => undefined } as postgres.Options<Record<string, never>>;
  const pjs = postgres(db.url, pjsOptions);
  const cluster = new Cluster({ url: db.url, max: POOL });
  try {
    const author = await store.users.create({ email: 'bench@example.com', username: 'bench', displayName: 'Bench' });
    const ids: number[] = [];
    for (let i = 0; i < ARTICLES; i += POOL) {
      const batch = Array.from({ length: POOL }, (_, j) => store.articles.create({ authorId: author.id, title: `Article ${i + j}`, body: 'text '.repeat(50) }));
      ids.push(...(await Promise.all(batch)).map((a) => a.id));
    }
    const pick = (i: number): number => ids[i % ids.length]!;
    const variants = {
      pg: (i: number) => queryRows(bare, articleById, [pick(i)]),
      postgresjs: (i: number) => pjs.unsafe(articleById.text, [pick(i)], { prepare: true }),
      cluster: (i: number) => cluster.query(articleById, [pick(i)], { read: true }),
    };
    // Every variant must read the same row, or the comparison is of different work.
    const probe = [(await variants.pg(7))[0], (await variants.postgresjs(7))[0], (await variants.cluster(7)).rows[0]];
    if (!probe.every((r) => r && Number((r as { id: unknown }).id) === pick(7))) throw new Error(`cluster bench: variants read different rows: ${JSON.stringify(probe)}`);
    const names = Object.keys(variants) as (keyof typeof variants)[];
    // interleaved(): a warm-up of each variant at the measured concurrency, then short rounds in an
    // order reversed every other round; each round's ratio compares neighbours in time.
    const qps = await interleaved(names, ROUNDS, (name) => throughput(CALLERS, ROUND_MS, variants[name]));
    const c = median(qps.cluster);
    const b = median(qps.pg);
    const p = median(qps.postgresjs);
    console.log(`bare pg: ${b.toFixed(0)} q/s   postgres.js (max_pipeline 1): ${p.toFixed(0)} q/s   Cluster: ${c.toFixed(0)} q/s (medians)`);
    console.log(`per-round Cluster ÷ pg: ${qps.cluster.map((x, i) => (x / qps.pg[i]!).toFixed(2)).join(' ')}`);
    console.log(`(${CALLERS} callers, ${POOL} connections each, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms)`);
    return {
      ratio: Number(medianRatio(qps.cluster, qps.pg).toFixed(3)),
      ratio_postgresjs: Number(medianRatio(qps.cluster, qps.postgresjs).toFixed(3)),
      cluster_qps: Math.round(c),
      pg_qps: Math.round(b),
      postgresjs_qps: Math.round(p),
    };
  } finally {
    await cluster.close();
    await bare.end();
    await pjs.end({ timeout: 5 });
    await store.close();
    await db.drop();
  }
}
