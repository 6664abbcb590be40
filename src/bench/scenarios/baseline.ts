// baseline: how close pgpress comes to the C client. pgbench -S (the primary-key read of its own
// table) and a custom pgbench script reading the same article by id with the same statement the
// library sends, on the same database, at the same number of connections, are the ceiling; the
// library (store.articles.get) and the API (GET /v1/articles/:id, lean) are reported as ratios of
// the custom script. Variants interleaved in rounds whose order reverses every round.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { articleById } from '../../content/articles/queries.ts';
import { Cluster } from '../../db/cluster.ts';
import { seed } from '../../ops/seed/seed.ts';
import { createStore } from '../../store.ts';
import { benchDatabase, throughput } from '../benchDatabase.ts';
import { load, shippedServer, startServerProcess, type ServerProcess } from '../httpLoad.ts';
import { interleaved, median, medianRatio } from '../measure.ts';
import { findPgbench, pgbenchInit, pgbenchTps } from '../pgbench.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';

const SCALE = Number(process.env.BENCH_BASELINE_SCALE ?? 5);
const CLIENTS = Number(process.env.BENCH_BASELINE_CLIENTS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** pgbench counts whole seconds: rounds last at least one. */
const SECONDS = Math.max(1, Math.round(Number(process.env.BENCH_SECONDS ?? 3)));

/** A gap in the ids (none after a seed) reads nothing, as pgbench's script does; anything else fails. */
function notFoundIsARead(e: unknown): null {
  if ((e as { code?: string }).code === 'PGP_NOT_FOUND') return null;
  throw e;
}

type Variant = 'pgbench_select' | 'pgbench_article' | 'library' | 'api';

async function runBaseline(ctx: ScenarioContext): Promise<ScenarioResult> {
  const bin = findPgbench();
  const db = await benchDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'pgpress-bench-pgbench-'));
  const seeder = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  const store = await createStore({ url: db.url, pool: { max: CLIENTS } });
  let server: ServerProcess | undefined;
  try {
    ctx.progress(0, 'seeding');
    await seed(seeder, { scale: SCALE, seed: 1 });
    await pgbenchInit(bin, db.url);
    server = await startServerProcess(shippedServer('full'), { DATABASE_URL: db.url, DB_POOL_MAX: String(CLIENTS), MIGRATE_ON_START: 'false', RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', LOG_LEVEL: 'silent', REDIS_URL: '' });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query<{ id: string; published: boolean }>("SELECT id::text, status = 'published' AS published FROM articles ORDER BY id").finally(() => c.end());
    const ids = rows.map((r) => Number(r.id));
    const published = rows.filter((r) => r.published).map((r) => Number(r.id));
    // pgbench and the library read every article (the library's statement has no status filter);
    // the API answers drafts with 404 to an anonymous reader, so it reads the published ones.
    const script = join(dir, 'article.sql');
    writeFileSync(script, `\\set id random(${ids[0]}, ${ids[ids.length - 1]})\n${articleById.text.replace('$1', ':id')};\n`);
    const lo = ids[0]!;
    const span = ids[ids.length - 1]! - lo + 1;
    const paths = published.slice(0, 1000).map((id) => `/v1/articles/${id}`);
    const s = server;
    const measure: Record<Variant, () => Promise<number>> = {
      pgbench_select: () => pgbenchTps(bin, db.url, CLIENTS, SECONDS, ['-S']),
      pgbench_article: () => pgbenchTps(bin, db.url, CLIENTS, SECONDS, ['-f', script]),
      library: () => throughput(CLIENTS, SECONDS * 1000, () => store.articles.get(lo + Math.floor(Math.random() * span)).catch(notFoundIsARead)),
      api: async () => (await load(s.url, paths, CLIENTS, SECONDS)).rps,
    };
    const variants = Object.keys(measure) as Variant[];
    let done = 0;
    const runs = await interleaved(variants, ROUNDS, async (v) => {
      ctx.progress(0.1 + (0.9 * done++) / (variants.length * (ROUNDS + 1)), v);
      return measure[v]();
    });
    const m = (v: Variant): number => Math.round(median(runs[v]));
    console.log(`pgbench -S: ${m('pgbench_select')} tps   pgbench article by id: ${m('pgbench_article')} tps   library: ${m('library')} reads/s   API: ${m('api')} req/s`);
    console.log(`(${CLIENTS} connections each, medians of ${ROUNDS} interleaved ${SECONDS} s rounds; seed scale ${SCALE}: ${ids.length} articles, ${published.length} published)`);
    const figures = {
      library_ratio: Number(medianRatio(runs.library, runs.pgbench_article).toFixed(3)),
      api_ratio: Number(medianRatio(runs.api, runs.pgbench_article).toFixed(3)),
      // The article read (a wider row, a subquery for the id) against pgbench's simplest read.
      article_vs_select_ratio: Number(medianRatio(runs.pgbench_article, runs.pgbench_select).toFixed(3)),
      pgbench_select_tps: m('pgbench_select'),
      pgbench_article_tps: m('pgbench_article'),
      library_rps: m('library'),
      api_rps: m('api'),
    };
    console.log(`library ÷ pgbench ${figures.library_ratio}, API ÷ pgbench ${figures.api_ratio}`);
    return { figures };
  } finally {
    await server?.stop();
    await store.close();
    await seeder.close();
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}

export const baseline: Scenario = {
  name: 'baseline',
  description: 'The C-client ceiling: pgbench -S and a pgbench script of the same article read on the same database; the library and the API as ratios of it.',
  run: runBaseline,
};
