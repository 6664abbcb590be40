// api: GET /v1/articles/:id through the full stack vs a bare Fastify + pg route running the same
// query, more HTTP connections than pool connections, rounds interleaved.
import pg from 'pg';
import { Cluster } from '../src/db/cluster.ts';
import { seed } from '../src/ops/seed/seed.ts';
import { TOPICS } from '../src/ops/seed/words.ts';
import { benchDatabase } from './benchDatabase.ts';
import { load, startServerProcess, type LoadResult, type ServerProcess } from './httpLoad.ts';

const CONNECTIONS = 64;
const POOL = 16;
const ROUNDS = 10;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Full stack ÷ bare for GET by id (ratio), plus latency figures. */
export async function api(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const cluster = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  const env = { DATABASE_URL: db.url, DB_POOL_MAX: String(POOL), RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', MIGRATE_ON_START: 'false' };
  const full = await startServerProcess('bench/servers/full.ts', env);
  const bare = await startServerProcess('bench/servers/bare.ts', env);
  try {
    await seed(cluster, { scale: 5, seed: 1 }); // 5k articles, 50k events
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query<{ id: string }>("SELECT id::text FROM articles WHERE status = 'published' ORDER BY id LIMIT 1000");
    await c.end();
    const paths = rows.map((r) => `/v1/articles/${r.id}`);
    await load(full.url, paths, 8, 1); // warm-up both: JIT, prepared statements, pools
    await load(bare.url, paths, 8, 1);
    const fullRuns: LoadResult[] = [];
    const bareRuns: LoadResult[] = [];
    // Server CPU per request: a second view beside throughput on a shared machine, where the load
    // generator, PostgreSQL and both servers compete for two cores.
    const cpu = { full: { ms: 0, n: 0 }, bare: { ms: 0, n: 0 } };
    const measured = async (which: 'full' | 'bare', server: ServerProcess, runs: LoadResult[]): Promise<void> => {
      const before = server.cpuMs();
      const r = await load(server.url, paths, CONNECTIONS, SECONDS);
      cpu[which].ms += server.cpuMs() - before;
      cpu[which].n += r.total;
      runs.push(r);
    };
    // Alternate which variant goes first, so drift within a pair favours neither.
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        await measured('bare', bare, bareRuns);
        await measured('full', full, fullRuns);
      } else {
        await measured('full', full, fullRuns);
        await measured('bare', bare, bareRuns);
      }
    }
    for (const [name, runs] of [['bare', bareRuns], ['pgpress', fullRuns]] as const) {
      console.log(`${name}: ${runs.map((x) => `${x.rps.toFixed(0)} req/s (${x.errors} errors, ${x.non2xx} non-2xx)`).join(', ')}`);
    }
    // Feed and search: latency at moderate concurrency, pgpress only (no bare twin to compare).
    const feedPaths = ['/v1/feed?limit=20', ...TOPICS.slice(0, 4).map((t) => `/v1/feed?limit=20&tag=${encodeURIComponent(t)}`)];
    const searchPaths = TOPICS.slice(0, 8).map((t) => `/v1/search?q=${encodeURIComponent(t)}&limit=10`);
    const feed = await load(full.url, feedPaths, 16, SECONDS);
    const search = await load(full.url, searchPaths, 16, SECONDS);
    console.log(`feed p50/p99 ${feed.p50}/${feed.p99} ms (${feed.rps.toFixed(0)} req/s, ${feed.non2xx} non-2xx); search p50/p99 ${search.p50}/${search.p99} ms (${search.rps.toFixed(0)} req/s, ${search.non2xx} non-2xx); 16 connections`);
    const usPerReq = (c: { ms: number; n: number }): number => (c.ms * 1000) / c.n;
    console.log(`server CPU per request: bare ${usPerReq(cpu.bare).toFixed(0)} µs, pgpress ${usPerReq(cpu.full).toFixed(0)} µs`);
    const f = median(fullRuns.map((x) => x.rps));
    const b = median(bareRuns.map((x) => x.rps));
    const errors = [...fullRuns, ...bareRuns].reduce((n, x) => n + x.errors + x.non2xx, 0);
    console.log(`GET /v1/articles/:id  bare: ${b.toFixed(0)} req/s   pgpress: ${f.toFixed(0)} req/s   p50/p99 ${median(fullRuns.map((x) => x.p50))}/${median(fullRuns.map((x) => x.p99))} ms   (${CONNECTIONS} connections, pool ${POOL}, median of ${ROUNDS} alternating ${SECONDS}s rounds, ${errors} errors)`);
    return {
      // Median of per-round ratios: each pair ran back to back under the same machine load.
      ratio: Number(median(fullRuns.map((x, i) => x.rps / bareRuns[i]!.rps)).toFixed(3)),
      cpu_ratio: Number((usPerReq(cpu.bare) / usPerReq(cpu.full)).toFixed(3)),
      cpu_us_per_req: Math.round(usPerReq(cpu.full)),
      bare_cpu_us_per_req: Math.round(usPerReq(cpu.bare)),
      rps: Math.round(f),
      bare_rps: Math.round(b),
      by_id_p50_ms: median(fullRuns.map((x) => x.p50)),
      by_id_p99_ms: median(fullRuns.map((x) => x.p99)),
      feed_p50_ms: feed.p50,
      feed_p99_ms: feed.p99,
      search_p50_ms: search.p50,
      search_p99_ms: search.p99,
      errors: errors + feed.errors + feed.non2xx + search.errors + search.non2xx,
    };
  } finally {
    await full.stop();
    await bare.stop();
    await cluster.close();
    await db.drop();
  }
}
