// cluster: point reads with more callers than connections through Cluster (lanes, deadlines,
// retry, breaker, metrics) vs a bare pg.Pool with the same named statement vs bare postgres.js
// (max_pipeline: 1). Variants interleaved A B C A B C …; ratios of medians.
import pg from 'pg';
import postgres from 'postgres';
import { Cluster } from '../src/db/cluster.ts';
import { createStore } from '../src/store.ts';
import { articleById } from '../src/content/articles/queries.ts';
import { benchDatabase, throughput } from './benchDatabase.ts';

const CALLERS = 64;
const POOL = 16;
const ROUNDS = 12;
const ROUND_MS = 800;

/** ratio = Cluster ÷ bare pg (named); ratio_postgresjs = Cluster ÷ postgres.js (medians of per-round ratios). */
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
    for (let i = 0; i < 1000; i++) ids.push((await store.articles.create({ authorId: author.id, title: `Article ${i}`, body: 'text '.repeat(50) })).id);
    const pick = (i: number): number => ids[i % ids.length]!;
    const named: pg.QueryConfig = { name: articleById.name, text: articleById.text };
    const variants = {
      pg: (i: number) => bare.query({ ...named, values: [pick(i)] }),
      postgresjs: (i: number) => pjs.unsafe(articleById.text, [pick(i)], { prepare: true }),
      cluster: (i: number) => cluster.query(articleById, [pick(i)], { read: true }),
    };
    const qps: Record<keyof typeof variants, number[]> = { pg: [], postgresjs: [], cluster: [] };
    for (const fn of Object.values(variants)) await throughput(CALLERS, 500, fn); // warm-up: connections, plans
    // Short rounds, order reversed every other round (A B C, C B A, …); each round's ratio compares
    // neighbours in time, so the machine's drift cancels; the figure is the median of those ratios.
    const names = Object.keys(variants) as (keyof typeof variants)[];
    const ratios: number[] = [];
    const ratiosPjs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of r % 2 === 0 ? names : [...names].reverse()) qps[name].push(await throughput(CALLERS, ROUND_MS, variants[name]));
      ratios.push(qps.cluster[r]! / qps.pg[r]!);
      ratiosPjs.push(qps.cluster[r]! / qps.postgresjs[r]!);
    }
    const median = (xs: number[]): number => {
      const v = [...xs].sort((a, b) => a - b);
      return (v[Math.floor((v.length - 1) / 2)]! + v[Math.ceil((v.length - 1) / 2)]!) / 2;
    };
    const c = median(qps.cluster);
    const b = median(qps.pg);
    const p = median(qps.postgresjs);
    console.log(`bare pg (named): ${b.toFixed(0)} q/s   postgres.js (max_pipeline 1): ${p.toFixed(0)} q/s   Cluster: ${c.toFixed(0)} q/s (medians)`);
    console.log(`per-round Cluster ÷ pg: ${ratios.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`(${CALLERS} callers, ${POOL} connections each, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms)`);
    return { ratio: Number(median(ratios).toFixed(3)), ratio_postgresjs: Number(median(ratiosPjs).toFixed(3)), cluster_qps: Math.round(c), pg_qps: Math.round(b), postgresjs_qps: Math.round(p) };
  } finally {
    await cluster.close();
    await bare.end();
    await pjs.end({ timeout: 5 });
    await store.close();
    await db.drop();
  }
}
