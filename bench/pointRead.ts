// point-read: article by id through Cluster (named statements) vs a bare pg.Pool (unnamed).
import pg from 'pg';
import { Cluster } from '../src/db/cluster.ts';
import { createStore } from '../src/store.ts';
import { articleById } from '../src/content/articles/queries.ts';
import { benchDatabase, throughput } from './benchDatabase.ts';

const CALLERS = 32;
const POOL = 16;
const ROUNDS = 3;
const ROUND_MS = 3_000;

/** Interleaves the two variants ROUNDS times; ratio = Cluster ÷ bare pg. */
export async function pointRead(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const store = await createStore({ url: db.url });
  const bare = new pg.Pool({ connectionString: db.url, max: POOL });
  bare.on('error', () => undefined); // the database is dropped WITH (FORCE) at the end
  const cluster = new Cluster({ url: db.url, max: POOL });
  try {
    const author = await store.users.create({ email: 'bench@example.com', username: 'bench', displayName: 'Bench' });
    const ids: number[] = [];
    for (let i = 0; i < 1000; i++) ids.push((await store.articles.create({ authorId: author.id, title: `Article ${i}`, body: 'text '.repeat(50) })).id);
    const pick = (i: number): number => ids[i % ids.length]!;
    const clusterQps: number[] = [];
    const bareQps: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      bareQps.push(await throughput(CALLERS, ROUND_MS, (i) => bare.query(articleById.text, [pick(i)])));
      clusterQps.push(await throughput(CALLERS, ROUND_MS, (i) => cluster.query(articleById, [pick(i)])));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const c = median(clusterQps);
    const b = median(bareQps);
    console.log(`bare pg (unnamed): ${b.toFixed(0)} q/s   Cluster (named): ${c.toFixed(0)} q/s   (${CALLERS} callers, pool ${POOL}, median of ${ROUNDS} interleaved rounds)`);
    return { ratio: Number((c / b).toFixed(3)), cluster_qps: Math.round(c), bare_qps: Math.round(b) };
  } finally {
    await cluster.close();
    await bare.end();
    await store.close();
    await db.drop();
  }
}
