// api: GET /v1/articles/:id over HTTP through the full stack, lean (rate limit, shedding and logs
// off) and in its default configuration (rate limit on, shedding on, access log at info), vs a
// bare Fastify + pg route running the same named query on pg's fastest path. More HTTP connections
// than pool connections; rounds interleaved, warm-up at the measured concurrency.
import pg from 'pg';
import { Cluster } from '../src/db/cluster.ts';
import { seed } from '../src/ops/seed/seed.ts';
import { TOPICS } from '../src/ops/seed/words.ts';
import { benchDatabase } from './benchDatabase.ts';
import { load, startServerProcess, type LoadResult, type ServerProcess } from './httpLoad.ts';
import { interleaved, median, medianRatio } from './measure.ts';

/** Seed scale of the database the HTTP scenarios serve (the smoke run uses 1). */
const SCALE = Number(process.env.BENCH_HTTP_SCALE ?? 5);
const CONNECTIONS = 64;
const POOL = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

type Variant = 'bare' | 'lean' | 'default';

/** The servers' environments. `default` leaves every protection at its default except the rate
 *  limit's size: on, counting every request, with a limit this load does not reach (the default
 *  600 a minute per client IP would turn the load generator's one IP away within a second). */
function environments(url: string): Record<Variant, Record<string, string>> {
  const common = { DATABASE_URL: url, DB_POOL_MAX: String(POOL), MIGRATE_ON_START: 'false', REDIS_URL: '' };
  return {
    bare: common,
    lean: { ...common, RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', LOG_LEVEL: 'silent' },
    default: { ...common, RATE_LIMIT_MAX: '1000000', RATE_LIMIT_WINDOW_MS: '1000', LOG_LEVEL: 'info' },
  };
}

/** A warm-up run, then the measured one, both at the 16 connections the latencies are reported for. */
async function warmThenLoad(url: string, paths: string[]): Promise<LoadResult> {
  await load(url, paths, 16, Math.min(1, SECONDS));
  return load(url, paths, 16, SECONDS);
}

/** Full stack ÷ bare for GET by id, lean (ratio) and default (ratio_default), plus latency figures. */
export async function api(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const cluster = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  const envs = environments(db.url);
  const servers: Partial<Record<Variant, ServerProcess>> = {};
  try {
    // Started together (each compiles its TypeScript on start); every one that started is stopped below.
    const started = await Promise.allSettled(
      (['bare', 'lean', 'default'] as const).map(async (v) => (servers[v] = await startServerProcess(v === 'bare' ? 'bench/servers/bare.ts' : 'bench/servers/full.ts', envs[v]))),
    );
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const running = servers as Record<Variant, ServerProcess>;
    await seed(cluster, { scale: SCALE, seed: 1 }); // scale 5: 5k articles, 50k events
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query<{ id: string }>("SELECT id::text FROM articles WHERE status = 'published' ORDER BY id LIMIT 1000");
    await c.end();
    const paths = rows.map((r) => `/v1/articles/${r.id}`);
    // Server CPU per request: a second view beside throughput on a shared machine, where the load
    // generator, PostgreSQL and the servers compete for two cores.
    const cpu: Record<Variant, { ms: number; n: number }> = { bare: { ms: 0, n: 0 }, lean: { ms: 0, n: 0 }, default: { ms: 0, n: 0 } };
    let warm = 0;
    const variants: Variant[] = ['bare', 'lean', 'default'];
    const runs = await interleaved(variants, ROUNDS, async (v): Promise<LoadResult> => {
      const server = running[v];
      const before = server.cpuMs();
      // The first run of each variant is interleaved()'s warm-up (JIT, prepared statements, pools):
      // at least a second, even when the measured rounds are shorter.
      const warmUp = warm++ < variants.length;
      const r = await load(server.url, paths, CONNECTIONS, warmUp ? Math.max(1, SECONDS) : SECONDS);
      if (!warmUp) {
        cpu[v].ms += server.cpuMs() - before;
        cpu[v].n += r.total;
      }
      return r;
    });
    const measured = (v: Variant): LoadResult[] => runs[v]; // the measured rounds (not the warm-up)
    for (const v of variants) {
      console.log(`${v}: ${measured(v).map((x) => `${x.rps.toFixed(0)} req/s (${x.errors} errors, ${x.non2xx} non-2xx)`).join(', ')}`);
    }
    // Feed and search: latency at moderate concurrency, pgpress (lean) only: no bare twin to compare.
    const feedPaths = ['/v1/feed?limit=20', ...TOPICS.slice(0, 4).map((t) => `/v1/feed?limit=20&tag=${encodeURIComponent(t)}`)];
    const searchPaths = TOPICS.slice(0, 8).map((t) => `/v1/search?q=${encodeURIComponent(t)}&limit=10`);
    const feed = await warmThenLoad(running.lean.url, feedPaths);
    const search = await warmThenLoad(running.lean.url, searchPaths);
    console.log(`feed p50/p99 ${feed.p50}/${feed.p99} ms (${feed.rps.toFixed(0)} req/s, ${feed.non2xx} non-2xx); search p50/p99 ${search.p50}/${search.p99} ms (${search.rps.toFixed(0)} req/s, ${search.non2xx} non-2xx); 16 connections`);
    const usPerReq = (v: Variant): number => (cpu[v].ms * 1000) / cpu[v].n;
    console.log(`server CPU per request: bare ${usPerReq('bare').toFixed(0)} µs, lean ${usPerReq('lean').toFixed(0)} µs, default ${usPerReq('default').toFixed(0)} µs`);
    const rps = (v: Variant): number[] => measured(v).map((x) => x.rps);
    // The default configuration sheds (503 + Retry-After) when the event loop lags: on a loaded
    // machine that is its documented behaviour, reported as default_shed, not as an error.
    const shed = measured('default').reduce((n, x) => n + x.shed, 0);
    const errors = variants.flatMap(measured).reduce((n, x) => n + x.errors + x.non2xx, 0) - shed;
    console.log(
      `GET /v1/articles/:id  bare: ${median(rps('bare')).toFixed(0)} req/s   lean: ${median(rps('lean')).toFixed(0)} req/s   default: ${median(rps('default')).toFixed(0)} req/s   ` +
        `(${CONNECTIONS} connections, pool ${POOL}, medians of ${ROUNDS} interleaved ${SECONDS} s rounds, ${errors} errors, ${shed} shed by default)`,
    );
    return {
      // Medians of per-round ratios: each round's variants ran back to back under the same machine load.
      ratio: Number(medianRatio(rps('lean'), rps('bare')).toFixed(3)),
      ratio_default: Number(medianRatio(rps('default'), rps('bare')).toFixed(3)),
      cpu_ratio: Number((usPerReq('bare') / usPerReq('lean')).toFixed(3)),
      cpu_ratio_default: Number((usPerReq('bare') / usPerReq('default')).toFixed(3)),
      cpu_us_per_req: Math.round(usPerReq('lean')),
      default_cpu_us_per_req: Math.round(usPerReq('default')),
      bare_cpu_us_per_req: Math.round(usPerReq('bare')),
      rps: Math.round(median(rps('lean'))),
      default_rps: Math.round(median(rps('default'))),
      bare_rps: Math.round(median(rps('bare'))),
      by_id_p50_ms: median(measured('lean').map((x) => x.p50)),
      by_id_p99_ms: median(measured('lean').map((x) => x.p99)),
      feed_p50_ms: feed.p50,
      feed_p99_ms: feed.p99,
      search_p50_ms: search.p50,
      search_p99_ms: search.p99,
      default_shed: shed,
      errors: errors + feed.errors + feed.non2xx + search.errors + search.non2xx,
    };
  } finally {
    for (const s of Object.values(servers)) await s.stop();
    await cluster.close();
    await db.drop();
  }
}
