// `pgpress bench tune`: the tuning advisor's advice, proven. On a throwaway server with
// pg_stat_statements preloaded and HypoPG: migrate, load comments, drop the index a user's latest
// comments need (comments_author_idx), run that workload, ask the advisor, apply the migration it
// wrote through the real migrate runner, and compare the statement with the index and without:
// the same prepared statement on two sessions, one barred from index scans (the plan it had before
// the migration, checked), interleaved A B, B A. The ratio is the median of per-round ratios
// without ÷ with. BENCH_TUNE_COMMENTS (default 200 000) sets the table's size. Needs PostgreSQL's
// server programs (src/bench/clusters.ts) and HypoPG (Debian postgresql-15-hypopg): each missing
// one fails at once with PGP_TOOL_MISSING and the package to install.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PACKAGE_MIGRATIONS_DIR } from '../../config/packagePaths.ts';
import { migrate } from '../../migrate/index.ts';
import { tune, type TuneReport } from '../../ops/tuning/advisor.ts';
import type { IndexCandidate } from '../../ops/tuning/missingIndexes.ts';
import { startCluster } from '../clusters.ts';
import { assertHypopgAvailable } from '../hypopg.ts';
import { onAbort } from '../lifecycle.ts';
import { interleaved, median, medianRatio } from '../measure.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';

/** The workload: a user's latest comments, what comments_author_idx (author_id, created_at) is for. */
export const LATEST_COMMENTS_OF_USER = {
  name: 'bench.tune.latestCommentsOfUser',
  text: 'SELECT id, article_id, body, created_at FROM comments WHERE author_id = $1 ORDER BY created_at DESC LIMIT 20',
};
const USERS = 1000;
/** Calls of the statement per measured run, each for another user. */
const CALLS_PER_RUN = 20;

/** What one validation run found and measured. */
export interface TuneValidation {
  /** The plan's scans before the advisor (index dropped) and after its migration. */
  planBefore: string;
  planAfter: string;
  candidate: IndexCandidate;
  migrationFile: string;
  migrationSql: string;
  /** Whether the index existed after the advisor ran, before the migration (it must not). */
  builtByAdvisor: boolean;
  /** What the migrate runner applied after the advisor (NNNN_name). */
  applied: string[];
  /** Median ms of CALLS_PER_RUN calls without and with the index, and the median per-round ratio. */
  withoutMs: number;
  withMs: number;
  ratio: number;
  report: TuneReport;
}

async function scans(c: pg.Client, userId: number): Promise<string> {
  await c.query({ ...LATEST_COMMENTS_OF_USER, values: [userId] });
  const { rows } = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${c.escapeIdentifier(LATEST_COMMENTS_OF_USER.name)}(${userId})`);
  return rows.map((r) => r['QUERY PLAN'].trim()).filter((l) => /Scan/.test(l)).map((l) => l.replace(/^->\s*/, '').replace(/\s+\(cost.*$/, '')).join(' > ');
}

async function runCalls(c: pg.Client, first: number): Promise<void> {
  for (let i = 0; i < CALLS_PER_RUN; i++) await c.query({ ...LATEST_COMMENTS_OF_USER, values: [((first + i * 37) % USERS) + 1] });
}

/** The whole validation on its own throwaway server; destroys it before returning. */
export async function validateTuning(opts: { comments: number; rounds: number; log?: (line: string) => void; progress?: (fraction: number, label: string) => void }): Promise<TuneValidation> {
  const log = opts.log ?? ((): void => undefined);
  const progress = opts.progress ?? ((): void => undefined);
  progress(0, 'starting a server with pg_stat_statements');
  const cluster = await startCluster({ settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'top' } });
  const dir = await mkdtemp(join(os.tmpdir(), 'pgpress-tune-'));
  const unregister = onAbort(async () => { await cluster.destroy(); await rm(dir, { recursive: true, force: true }); });
  const clients: pg.Client[] = [];
  const client = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    clients.push(c);
    return c;
  };
  const url = cluster.primary.url.replace(/\/postgres$/, '/tune');
  try {
    await assertHypopgAvailable((sql) => cluster.primary.query(sql));
    progress(0.1, 'migrating, loading comments');
    await cluster.primary.query('CREATE DATABASE tune');
    await cp(PACKAGE_MIGRATIONS_DIR, dir, { recursive: true });
    await migrate({ url, dir });
    const admin = await client();
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements; CREATE EXTENSION IF NOT EXISTS hypopg');
    // A bulk load: triggers (audit) off for this session only.
    await admin.query("SET session_replication_role = replica");
    await admin.query(`INSERT INTO users (email, username, display_name) SELECT 'u' || g || '@example.com', 'user_' || g, 'User ' || g FROM generate_series(1, $1::int) g`, [USERS]);
    await admin.query(`INSERT INTO articles (author_id, title, slug, status, published_at) SELECT g, 'Article ' || g, 'article-' || g, 'published', now() FROM generate_series(1, $1::int) g`, [USERS]);
    await admin.query(`INSERT INTO comments (article_id, author_id, body, created_at)
                       SELECT 1 + (g::bigint * 7919) % ${USERS}, 1 + (g::bigint * 104729) % ${USERS}, 'comment ' || g || ' ' || repeat('lorem ipsum ', 8), now() - g * interval '1 second'
                         FROM generate_series(1, $1::int) g`, [opts.comments]);
    await admin.query('RESET session_replication_role');
    await admin.query('DROP INDEX comments_author_idx');
    await admin.query('VACUUM ANALYZE users, articles, comments');
    await admin.query('SELECT pg_stat_statements_reset()');

    const app = await client();
    const planBefore = await scans(app, 1);
    for (let r = 0; r < 5; r++) await runCalls(app, r * CALLS_PER_RUN);
    log(`before: ${planBefore}`);

    progress(0.5, 'asking the advisor');
    const report = await tune({ url, writeMigrationsTo: dir, minTableRows: 1000, minStatsWindowSeconds: 0 });
    if (!report.missingIndexes.available) throw new Error(`the advisor found no candidates: ${report.missingIndexes.reason}`);
    const candidate = report.missingIndexes.candidates.find((c) => c.table === 'comments' && c.columns[0] === 'author_id');
    const migrationFile = report.migrationsWritten.find((f) => candidate && f.includes(candidate.name));
    if (!candidate || !migrationFile) throw new Error(`the advisor did not recommend an index on comments (author_id): ${JSON.stringify(report.missingIndexes.candidates)}`);
    log(`advisor: ${candidate.sql} (HypoPG ${JSON.stringify(candidate.hypothetical)})`);
    const migrationSql = await readFile(migrationFile, 'utf8');
    // The advisor only wrote the file: until the runner applies it, the index does not exist.
    const builtByAdvisor = (await admin.query('SELECT 1 FROM pg_indexes WHERE indexname = $1', [candidate.name])).rows.length > 0;
    const applied = (await migrate({ url, dir })).map((a) => `${String(a.version).padStart(4, '0')}_${a.name}`);
    log(`applied ${applied.join(', ')}`);

    // A new session plans afresh with the new index; the barred one keeps the plan it had before.
    const withIndex = await client();
    const without = await client();
    await without.query('SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off');
    const planAfter = await scans(withIndex, 1);
    const barred = await scans(without, 1);
    if (barred !== planBefore) throw new Error(`the session without the index plans "${barred}", not the plan before the migration "${planBefore}"`);
    log(`after: ${planAfter}`);
    progress(0.6, 'without and with the index');
    let round = 0;
    const times = await interleaved(['without', 'with'] as const, opts.rounds, async (v) => {
      const c = v === 'with' ? withIndex : without;
      const t = performance.now();
      await runCalls(c, (round++ * 13) % USERS);
      return performance.now() - t;
    });
    return { planBefore, planAfter, candidate, migrationFile, migrationSql, builtByAdvisor, applied, withoutMs: median(times.without), withMs: median(times.with), ratio: medianRatio(times.without, times.with), report };
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
    await cluster.destroy();
    await rm(dir, { recursive: true, force: true });
    unregister();
  }
}

async function runTune(ctx: ScenarioContext): Promise<ScenarioResult> {
  const comments = Number(process.env.BENCH_TUNE_COMMENTS ?? 200_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
  const v = await validateTuning({ comments, rounds, log: (l) => console.log(l), progress: (f, l) => ctx.progress(f, l) });
  const cost = v.candidate.hypothetical.tested ? v.candidate.hypothetical.costBefore / v.candidate.hypothetical.costAfter : NaN;
  console.log(`${CALLS_PER_RUN} calls of the statement: ${v.withoutMs.toFixed(1)} ms without the index, ${v.withMs.toFixed(1)} ms with it: ${v.ratio.toFixed(1)}× faster (median of ${rounds} rounds); HypoPG's estimated cost ratio ${cost.toFixed(1)}×`);
  return { figures: { ratio: v.ratio, estimated_cost_ratio: cost, comments, without_ms: v.withoutMs, with_ms: v.withMs } };
}

/** The scenario: prints the plans and the ratio. */
export const tuneScenario: Scenario = {
  name: 'tune',
  description: "The tuning advisor's index, proven: a workload's statement without it and with it once its migration is applied (ratio), and HypoPG's estimate.",
  onlyWhenNamed: 'starts its own PostgreSQL server (Debian postgresql-15) and needs HypoPG (postgresql-15-hypopg)',
  run: runTune,
};
