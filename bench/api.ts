// api: GET /v1/articles/:id through the full stack vs a bare Fastify + pg route running the same
// query, more HTTP connections than pool connections, rounds interleaved.
import { createStore } from '../src/store.ts';
import { benchDatabase } from './benchDatabase.ts';
import { load, startServerProcess, type LoadResult } from './httpLoad.ts';

const CONNECTIONS = 64;
const POOL = 16;
const ROUNDS = 3;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Full stack ÷ bare for GET by id (ratio), plus latency figures. */
export async function api(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const store = await createStore({ url: db.url });
  const env = { DATABASE_URL: db.url, DB_POOL_MAX: String(POOL), RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', MIGRATE_ON_START: 'false' };
  const full = await startServerProcess('bench/servers/full.ts', env);
  const bare = await startServerProcess('bench/servers/bare.ts', env);
  try {
    const author = await store.users.create({ email: 'bench@example.com', username: 'bench', displayName: 'Bench' });
    const paths: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const a = await store.articles.create({ authorId: author.id, title: `Article ${i}`, body: 'text '.repeat(100), status: 'published' });
      paths.push(`/v1/articles/${a.id}`);
    }
    await load(full.url, paths, 8, 1); // warm-up both: JIT, prepared statements, pools
    await load(bare.url, paths, 8, 1);
    const fullRuns: LoadResult[] = [];
    const bareRuns: LoadResult[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      bareRuns.push(await load(bare.url, paths, CONNECTIONS, SECONDS));
      fullRuns.push(await load(full.url, paths, CONNECTIONS, SECONDS));
    }
    for (const [name, runs] of [['bare', bareRuns], ['pgpress', fullRuns]] as const) {
      console.log(`${name}: ${runs.map((x) => `${x.rps.toFixed(0)} req/s (${x.errors} errors, ${x.non2xx} non-2xx)`).join(', ')}`);
    }
    const f = median(fullRuns.map((x) => x.rps));
    const b = median(bareRuns.map((x) => x.rps));
    const errors = [...fullRuns, ...bareRuns].reduce((n, x) => n + x.errors + x.non2xx, 0);
    console.log(`GET /v1/articles/:id  bare: ${b.toFixed(0)} req/s   pgpress: ${f.toFixed(0)} req/s   p50/p99 ${median(fullRuns.map((x) => x.p50))}/${median(fullRuns.map((x) => x.p99))} ms   (${CONNECTIONS} connections, pool ${POOL}, median of ${ROUNDS} interleaved ${SECONDS}s rounds, ${errors} errors)`);
    return {
      ratio: Number((f / b).toFixed(3)),
      rps: Math.round(f),
      bare_rps: Math.round(b),
      by_id_p50_ms: median(fullRuns.map((x) => x.p50)),
      by_id_p99_ms: median(fullRuns.map((x) => x.p99)),
      errors,
    };
  } finally {
    await full.stop();
    await bare.stop();
    await store.close();
    await db.drop();
  }
}
