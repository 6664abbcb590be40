// search: ranked full-text search at `seed --scale 100` (BENCH_SEARCH_SCALE). The product's search
// (pgpress_search_top: tiers of single-lexeme ranks, migration 0107) against the full ranking it
// replaces (every match ranked, searchArticles), both with snippets, through the library,
// interleaved, per class of term: common words (in 10–70 % of the articles), rare ones (the seed's
// long tail) and queries of several words (ranked in full by both: reported apart). Every query's
// first page must be the same ids and ranks both ways (`top10_identical`). Then the HTTP search at
// 16 connections, closed loop (autocannon, the load generator of the other HTTP scenarios), the query
// cache off (the database path, not cache hits) and shedding off (the latency of every request, not
// of those admitted), with the CPU each request cost the database backends, the server and the load
// generator (all on the same cores here).
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { Cluster } from '../../db/cluster.ts';
import { seed, TAIL_WORDS } from '../../ops/seed/seed.ts';
import { tailVocabulary } from '../../ops/seed/words.ts';
import { searchArticles } from '../../content/search/queries.ts';
import { search } from '../../content/search/repository.ts';
import { benchDatabase } from '../benchDatabase.ts';
import { clientBackendPids, cpuBetween, cpuByPid } from '../cpuMeter.ts';
import { shippedServer, startServerProcess } from '../httpLoad.ts';
import { summarise } from '../openLoop.ts';
import { median, roundOrder } from '../measure.ts';
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';
import { recordOp } from '../timeline.ts';

const SCALE = Number(process.env.BENCH_SEARCH_SCALE ?? 100);
const ROUNDS = Number(process.env.BENCH_SEARCH_ROUNDS ?? 5);
const HTTP_SECONDS = Number(process.env.BENCH_SEARCH_HTTP_SECONDS ?? 10);
const HTTP_CONNECTIONS = 16;
// An already seeded database to measure instead of a fresh one (kept afterwards).
const GIVEN_URL = process.env.BENCH_SEARCH_URL;

const TAIL = tailVocabulary(TAIL_WORDS);
export const COMMON_TERMS = ['table', 'query', 'index', 'vacuum', 'replication', 'deadlocks', 'sharding', 'latency', 'checkpoint', 'fsync'];
export const RARE_TERMS = [10, 30, 100, 300, 1000, 3000].map((i) => TAIL[i]!);
export const MULTI_TERMS = ['checkpoint fsync', 'query planner', 'deadlocks or sharding'];

type Row = { id: number; rank: number };
const p95 = (xs: number[]): number => summarise(xs).p95;

async function runSearch(ctx: ScenarioContext): Promise<ScenarioResult> {
  const db = GIVEN_URL ? { url: GIVEN_URL, drop: async () => undefined } : await benchDatabase();
  const cluster = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  const c = new pg.Client({ connectionString: db.url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    if (!GIVEN_URL) {
      ctx.progress(0, 'seeding');
      const t = performance.now();
      await seed(cluster, { scale: SCALE, seed: 1 });
      await c.query('VACUUM ANALYZE articles');
      console.log(`seeded scale ${SCALE} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    const all = [...COMMON_TERMS, ...RARE_TERMS, ...MULTI_TERMS];
    for (const term of all) {
      const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM articles WHERE status = 'published' AND search @@ websearch_to_tsquery('english', $1)", [term]);
      console.log(`  ${JSON.stringify(term)}: ${rows[0]!.n} published matches`);
    }

    // Identity first: every query's first page, ids and ranks, both ways.
    ctx.progress(0.1, 'identity');
    let identical = true;
    const full = async (term: string): Promise<Row[]> =>
      (await c.query<{ id: string; rank: number }>(searchArticles.text, [term, 10, 0])).rows.map((r) => ({ id: Number(r.id), rank: r.rank }));
    const ranked = async (term: string): Promise<Row[]> => (await search(cluster, term, 10, 0)).map((h) => ({ id: h.id, rank: h.rank }));
    for (const term of all) {
      const [a, b] = [await ranked(term), await full(term)];
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        identical = false;
        console.log(`  DIFFERENT top 10 for ${JSON.stringify(term)}:\n    ranked ${JSON.stringify(a)}\n    full   ${JSON.stringify(b)}`);
      }
    }

    // Latency through the library, interleaved: each round runs every term both ways, the order
    // of the two variants reversed every other round.
    const ms: Record<'ranked' | 'full', Map<string, number[]>> = { ranked: new Map(), full: new Map() };
    for (const v of ['ranked', 'full'] as const) for (const t of all) ms[v].set(t, []);
    for (let r = 0; r < ROUNDS; r++) {
      ctx.progress(0.15 + (0.45 * r) / ROUNDS, 'library');
      for (const v of roundOrder(['ranked', 'full'] as const, r)) {
        for (const term of all) {
          const t0 = performance.now();
          await (v === 'ranked' ? ranked(term) : full(term));
          const took = performance.now() - t0;
          ms[v].get(term)!.push(took);
          recordOp(took);
        }
      }
    }
    const of = (v: 'ranked' | 'full', terms: string[]): number[] => terms.flatMap((t) => ms[v].get(t)!);
    const sumMedians = (v: 'ranked' | 'full', terms: string[]): number => terms.reduce((s, t) => s + median(ms[v].get(t)!), 0);
    for (const term of all) {
      console.log(`  ${JSON.stringify(term)}: ranked p50 ${median(ms.ranked.get(term)!).toFixed(1)} ms, full ranking p50 ${median(ms.full.get(term)!).toFixed(1)} ms`);
    }
    const ratio = (terms: string[]): number => Number((sumMedians('full', terms) / sumMedians('ranked', terms)).toFixed(2));
    const figures: Record<string, Figure> = {
      search_ratio: ratio([...COMMON_TERMS, ...RARE_TERMS]),
      search_common_ratio: ratio(COMMON_TERMS),
      search_rare_ratio: ratio(RARE_TERMS),
      search_multi_ratio: ratio(MULTI_TERMS),
      p95_ms_common: p95(of('ranked', COMMON_TERMS)),
      p95_ms_rare: p95(of('ranked', RARE_TERMS)),
      p95_ms_multi: p95(of('ranked', MULTI_TERMS)),
      full_p95_ms_common: p95(of('full', COMMON_TERMS)),
      full_p95_ms_rare: p95(of('full', RARE_TERMS)),
    };

    // HTTP: 16 connections in a closed loop over the common and rare terms, cache and shedding off.
    ctx.progress(0.6, 'http');
    const secret = randomBytes(32).toString('hex');
    const server = await startServerProcess(shippedServer('full'), {
      DATABASE_URL: db.url, JWT_SECRET: secret, RATE_LIMIT_MAX: '0', MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent', REDIS_URL: '', CACHE_ENABLED: 'false',
      SHED_EVENT_LOOP_DELAY_MS: '0',
    });
    try {
      const terms = [...COMMON_TERMS, ...RARE_TERMS];
      let i = 0;
      const run = async (seconds: number): Promise<{ latencies: number[]; failed: Map<number, number>; errors: number }> => {
        const latencies: number[] = [];
        const failed = new Map<number, number>();
        const instance = autocannon({
          url: server.url,
          connections: HTTP_CONNECTIONS,
          duration: seconds,
          requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/search?q=${encodeURIComponent(terms[i++ % terms.length]!)}&limit=10` }) }],
        });
        // autocannon's summary has no p95: the latencies come from its response events.
        (instance as unknown as autocannon.Instance).on('response', (_client: unknown, status: number, _bytes: number, took: number) => {
          recordOp(took, status < 400);
          if (status === 200) latencies.push(took);
          else failed.set(status, (failed.get(status) ?? 0) + 1);
        });
        const result = await instance;
        return { latencies, failed, errors: result.errors };
      };
      await run(Math.min(2, Math.max(1, Math.round(HTTP_SECONDS / 5))));
      const pids = await clientBackendPids(c);
      const [db0, server0, gen0] = [cpuByPid(pids), server.cpuMs(), process.cpuUsage()];
      const { latencies, failed, errors: socketErrors } = await run(HTTP_SECONDS);
      const [db1, server1, gen1] = [cpuByPid(pids), server.cpuMs(), process.cpuUsage(gen0)];
      const s = summarise(latencies);
      const errors = [...failed.values()].reduce((a, b) => a + b, 0) + socketErrors;
      const byStatus = [...failed].map(([code, n]) => `${n} × ${code}`).join(', ');
      const perRequest = (cpuMs: number): number => Number((cpuMs / Math.max(1, latencies.length)).toFixed(3));
      console.log(`HTTP /v1/search, ${HTTP_CONNECTIONS} connections, ${HTTP_SECONDS} s: ${(latencies.length / HTTP_SECONDS).toFixed(0)} req/s, p50 ${s.p50} p95 ${s.p95} p99 ${s.p99} ms, ${errors} errors${byStatus ? ` (${byStatus})` : ''}`);
      figures.http_p95_ms = s.p95;
      figures.http_p50_ms = s.p50;
      figures.http_p99_ms = s.p99;
      figures.http_rps = Math.round(latencies.length / HTTP_SECONDS);
      figures.errors = errors;
      // CPU per request: the database's backends (the server's pool), the server, the load generator.
      const dbCpu = cpuBetween(db0, db1);
      if (dbCpu !== null) figures.http_cpu_ms_db = perRequest(dbCpu);
      figures.http_cpu_ms_server = perRequest(server1 - server0);
      figures.http_cpu_ms_loadgen = perRequest((gen1.user + gen1.system) / 1000);
      console.log(`  CPU per request: database ${figures.http_cpu_ms_db ?? '(not readable)'} ms, server ${figures.http_cpu_ms_server} ms, load generator ${figures.http_cpu_ms_loadgen} ms`);
    } finally {
      await server.stop();
    }
    figures.top10_identical = identical;
    figures.articles = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM articles')).rows[0]!.n);
    console.log(`library p95: common ${figures.p95_ms_common} ms, rare ${figures.p95_ms_rare} ms, several words ${figures.p95_ms_multi} ms; top 10 identical to the full ranking: ${identical}`);
    return { figures };
  } finally {
    await c.end();
    await cluster.close();
    await db.drop();
  }
}

export const searchScenario: Scenario = {
  name: 'search',
  description: 'Ranked full-text search at seed scale 100: the product\'s ranking against the full ranking (top 10 identical), library p95 per class of term, HTTP at 16 connections with CPU per request.',
  onlyWhenNamed: 'seeds a scale-100 database (minutes) unless BENCH_SEARCH_URL names one',
  run: runSearch,
};
