// `pgpress bench cache`: GET /v1/articles/:id through the full stack with the query cache on, against
//  - a bare Fastify hello-world route returning the same JSON (ratio_vs_hello: what the stack
//    costs around a cache hit), and
//  - the same stack with the cache off (speedup: what the cache saves),
// rounds interleaved over hot keys already cached; then a Zipf(1.1) key mix over every article
// with 5 % writes (by a plain SQL client, as psql would: the cache hears them through the
// database's change feed), reporting the hit ratio (from the server's own counters) and p50/p99.
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379): checked first, PGP_SERVICE_MISSING
// when it does not answer.
import pg from 'pg';
import { Random, Zipf } from '../../ops/seed/random.ts';
import { benchDatabase } from '../benchDatabase.ts';
import { load, loadMix, shippedServer, startServerProcess, type LoadResult, type ServerProcess } from '../httpLoad.ts';
import { interleaved, median, medianRatio } from '../measure.ts';
import { assertRedisAnswers } from '../redisCheck.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';

/** Articles in the database (the smoke run uses fewer). */
const ARTICLES = Number(process.env.BENCH_CACHE_ARTICLES ?? 100_000);
const HOT = Math.min(200, ARTICLES);
const CONNECTIONS = 64;
const POOL = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MIX_SECONDS = Number(process.env.BENCH_CACHE_MIX_SECONDS ?? Math.max(1, SECONDS * 2));
const WRITE_EVERY = 20; // 1 in 20 operations is a write: 5 %
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type Variant = 'hello' | 'cached' | 'uncached';

/** The full stack's environments: lean (no rate limit, no load shedding, no logs), cache on and
 *  off. Admission control stays on as shipped (limit DB_POOL_MAX): 64 connections behind 16 slots
 *  are a standing queue of a few ms each, served in order, not overload (src/http/admission.ts). */
function environments(url: string): Record<'cached' | 'uncached', Record<string, string>> {
  const common = { DATABASE_URL: url, DB_POOL_MAX: String(POOL), MIGRATE_ON_START: 'false', RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', LOG_LEVEL: 'silent', SCHEDULER_ENABLED: 'false' };
  return {
    cached: { ...common, REDIS_URL, CACHE_ENABLED: 'true' },
    uncached: { ...common, REDIS_URL: '', CACHE_ENABLED: 'false' },
  };
}

/** One author and n published articles, in two statements (the seed's events are not needed here). */
async function fill(c: pg.Client, n: number): Promise<string[]> {
  // No id offset needed: serve's Redis namespace is this database's own (its oid), so an earlier
  // run's entries still within their TTL never answer for this one's rows.
  const author = (await c.query<{ id: string }>(
    "INSERT INTO users (email, username, display_name) VALUES ('cache-bench@example.com', 'cache_bench', 'Cache Bench') RETURNING id::text",
  )).rows[0]!.id;
  await c.query(
    `INSERT INTO articles (author_id, title, slug, body, status, tags, published_at)
     SELECT $1, 'Cached article ' || i, 'cached-' || i, repeat('A body long enough to look like an article. ', 20),
            'published', ARRAY['bench', 'topic-' || (i % 50)], now()
       FROM generate_series(1, $2::int) AS i`,
    [author, n],
  );
  await c.query('ANALYZE articles');
  return (await c.query<{ id: string }>('SELECT id::text FROM articles ORDER BY id')).rows.map((r) => r.id);
}

/** The article counters a server has served, from its /metrics. */
async function cacheCounts(base: string): Promise<{ hits: number; misses: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = (name: string): number =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && l.includes('kind="article"'))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { hits: sum('pgpress_cache_hits_total'), misses: sum('pgpress_cache_misses_total') };
}

/** Cached ÷ hello-world and cached ÷ uncached for GET by id, and the Zipf mix's hit ratio and latency. */
async function runCache(ctx: ScenarioContext): Promise<ScenarioResult> {
  ctx.progress(0, 'checking Redis');
  await assertRedisAnswers(REDIS_URL, 'the cache scenario');
  const db = await benchDatabase();
  const servers: Partial<Record<Variant, ServerProcess>> = {};
  const sql = new pg.Client({ connectionString: db.url });
  const writers = new pg.Pool({ connectionString: db.url, max: 4 });
  writers.on('error', () => undefined); // the database is dropped WITH (FORCE) at the end
  try {
    await sql.connect();
    ctx.progress(0.05, `loading ${ARTICLES} articles`);
    const ids = await fill(sql, ARTICLES);
    console.log(`${ids.length} articles`);
    const envs = environments(db.url);
    const started = await Promise.allSettled(
      (['cached', 'uncached'] as const).map(async (v) => (servers[v] = await startServerProcess(shippedServer('full'), envs[v]))),
    );
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    // The hello-world route answers exactly what the full stack answers for a hot article.
    const sample = await (await fetch(`${servers.uncached!.url}/v1/articles/${ids[0]}`)).text();
    servers.hello = await startServerProcess(shippedServer('hello'), { BENCH_HELLO_JSON: sample });
    const running = servers as Record<Variant, ServerProcess>;

    const hot = ids.slice(0, HOT).map((id) => `/v1/articles/${id}`);
    // Every hot key cached before any round: the comparison is of cache hits, not of first loads.
    for (let i = 0; i < hot.length; i += 8) {
      await Promise.all(hot.slice(i, i + 8).map(async (p) => {
        const res = await fetch(running.cached.url + p);
        if (res.status !== 200) throw new Error(`GET ${p} on the cached server answered ${res.status}`);
        await res.arrayBuffer();
      }));
    }
    const variants: Variant[] = ['hello', 'cached', 'uncached'];
    let warm = 0;
    let done = 0;
    // Server CPU per request (from /proc): less moved by other work on the machine than req/s.
    const cpuUs: Record<Variant, number[]> = { hello: [], cached: [], uncached: [] };
    const runs = await interleaved(variants, ROUNDS, async (v): Promise<LoadResult> => {
      // interleaved()'s first run of each variant is its warm-up: JIT, pools, and the hot keys cached.
      const warmUp = warm++ < variants.length;
      ctx.progress(0.15 + (0.6 * done++) / (variants.length * (ROUNDS + 1)), `${v}: GET by id`);
      const cpu0 = running[v].cpuMs();
      const r = await load(running[v].url, hot, CONNECTIONS, warmUp ? Math.max(1, SECONDS) : SECONDS);
      if (!warmUp) cpuUs[v].push(((running[v].cpuMs() - cpu0) * 1000) / Math.max(1, r.total));
      return r;
    });
    const rps = (v: Variant): number[] => runs[v].map((x) => x.rps);
    const failed = (x: LoadResult): string => (x.errors + x.non2xx > 0 ? ` (${x.errors} errors, ${x.non2xx} non-2xx)` : '');
    for (const v of variants) console.log(`${v}: ${runs[v].map((x) => `${x.rps.toFixed(0)} req/s${failed(x)}`).join(', ')}`);

    // The Zipf mix: reads of Zipf-ranked articles (rank → a shuffled id), every 20th operation an
    // UPDATE of a Zipf-ranked article by a plain SQL client.
    const r = new Random(11);
    const zipf = new Zipf(ids.length, 1.1);
    const byRank = [...ids];
    for (let i = byRank.length - 1; i > 0; i--) {
      const j = Math.floor(r.next() * (i + 1));
      [byRank[i], byRank[j]] = [byRank[j]!, byRank[i]!];
    }
    let ops = 0;
    let writes = 0;
    let writeErrors = 0;
    const pending = new Set<Promise<void>>();
    const runMix = async (seconds: number): Promise<LoadResult> => {
      const result = await loadMix(
        running.cached.url,
        () => {
          if (++ops % WRITE_EVERY === 0) {
            const id = byRank[zipf.sample(r)]!;
            const p = writers
              .query("UPDATE articles SET body = body || '.', updated_at = now() WHERE id = $1", [id])
              .then(() => void writes++, () => void writeErrors++)
              .finally(() => pending.delete(p));
            pending.add(p);
          }
          return { method: 'GET', path: `/v1/articles/${byRank[zipf.sample(r)]}` };
        },
        CONNECTIONS,
        seconds,
      );
      await Promise.all(pending);
      return result;
    };
    // A warm-up of the same mix first: the figures are of the cache in its steady state, not filling.
    ctx.progress(0.8, 'Zipf mix with 5 % writes');
    await runMix(MIX_SECONDS);
    ops = writes = writeErrors = 0;
    const before = await cacheCounts(running.cached.url);
    const mix = await runMix(MIX_SECONDS);
    const after = await cacheCounts(running.cached.url);
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    const hitRatio = hits + misses === 0 ? 0 : hits / (hits + misses);
    console.log(
      `Zipf(1.1) over ${ids.length} articles, ${MIX_SECONDS} s at ${CONNECTIONS} connections: ${mix.total} reads, ${writes} writes (${writeErrors} failed), ` +
        `hit ratio ${hitRatio.toFixed(3)} (${hits} hits, ${misses} misses), p50/p99 ${mix.p50}/${mix.p99} ms, ${mix.rps.toFixed(0)} req/s${failed(mix)}`,
    );
    const errors = variants.flatMap((v) => runs[v]).reduce((n, x) => n + x.errors + x.non2xx, 0) + mix.errors + mix.non2xx + writeErrors;
    console.log(
      `GET /v1/articles/:id  hello: ${median(rps('hello')).toFixed(0)} req/s   cached: ${median(rps('cached')).toFixed(0)} req/s   uncached: ${median(rps('uncached')).toFixed(0)} req/s   ` +
        `(${CONNECTIONS} connections, pool ${POOL}, ${HOT} hot keys, medians of ${ROUNDS} interleaved ${SECONDS} s rounds, ${errors} errors)`,
    );
    const figures = {
      // Medians of per-round ratios: each round's variants ran back to back under the same machine load.
      ratio_vs_hello: Number(medianRatio(rps('cached'), rps('hello')).toFixed(3)),
      speedup: Number(medianRatio(rps('cached'), rps('uncached')).toFixed(3)),
      hit_ratio: Number(hitRatio.toFixed(3)),
      mix_p50_ms: mix.p50,
      mix_p99_ms: mix.p99,
      mix_rps: Math.round(mix.rps),
      mix_write_share: Number((writes / (mix.total + writes)).toFixed(3)),
      cached_rps: Math.round(median(rps('cached'))),
      uncached_rps: Math.round(median(rps('uncached'))),
      hello_rps: Math.round(median(rps('hello'))),
      // Server CPU µs per request, medians over the measured rounds; their ratio is the stack's cost
      // around a cache hit with the load generator and the rest of the machine factored out.
      hello_cpu_us: Number(median(cpuUs.hello).toFixed(1)),
      cached_cpu_us: Number(median(cpuUs.cached).toFixed(1)),
      cpu_ratio_vs_hello: Number((median(cpuUs.hello) / median(cpuUs.cached)).toFixed(3)),
      cached_p50_ms: median(runs.cached.map((x) => x.p50)),
      cached_p99_ms: median(runs.cached.map((x) => x.p99)),
      articles: ids.length,
      errors,
    };
    return { figures };
  } finally {
    for (const s of Object.values(servers)) await s.stop();
    await sql.end().catch(() => undefined);
    await writers.end().catch(() => undefined);
    await db.drop();
  }
}

/** The scenario. */
export const cache: Scenario = {
  name: 'cache',
  description: 'GET by id through the full stack with the query cache, ÷ a bare hello-world route and ÷ the cache off; a Zipf mix with 5 % writes: hit ratio, p50/p99.',
  onlyWhenNamed: 'needs Redis at REDIS_URL (default redis://127.0.0.1:6379)',
  run: runCache,
};
