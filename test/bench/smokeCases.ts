// The smoke runs' shared part (smoke.test.ts: the checkout's scenarios; smokeShipped*.test.ts: those
// `pgpress bench` ships and runs by default; smokeCompiled*.test.ts: the shipped ones that run
// only when named — replicas, cache, tune, … — from a compiled build laid out as the package):
// tiny scales, sanity floors, and one run of a scenario checked against them.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ensureTool } from '../harness/debianTool.ts';
import { bindir } from '../harness/pgCluster.ts';
import { shippedScenarios } from '../../src/bench/registry.ts';
import { startBench, type StartOptions } from './benchProcess.ts';

/** The shipped scenarios a bare `pgpress bench` runs (not marked onlyWhenNamed), in order. */
export function shippedDefaults(): string[] {
  return Object.values(shippedScenarios).filter((s) => s.onlyWhenNamed === undefined).map((s) => s.name);
}

/** Sanity floors by scenario and key. A scenario's other keys that name a ratio get DEFAULT_FLOOR. */
export const FLOORS: Record<string, Record<string, number>> = {
  // Scale 1 (1k articles, 10k events): the view still wins by ~10×, the indexes by little.
  schema: { analytics_ratio: 2, search_ratio: 0.4, feed_ratio: 0.4, retention_ratio: 0.1, retention_wal_ratio: 0.05, search_common_ratio: 0.3, search_rare_ratio: 0.3 },
  // Full stack ÷ bare, ~0.9 on a quiet machine; at load average 15 the smoke run's medians fell to
  // 0.43 (api) and 0.79 (cluster). A Cluster stalling 100 ms a call scores ~0.16, caught; one
  // stalling 20 ms scored 0.34–0.6 here, not reliably: the floors catch a variant that fails,
  // does no work or stalls grossly, not a 2× slowdown.
  api: { ratio: 0.2, ratio_default: 0.2, cpu_ratio: 0.12, cpu_ratio_default: 0.12 },
  cluster: { ratio: 0.3, ratio_postgresjs: 0.25 },
  // Last quarter ÷ first of a short soak (report.test.ts's 3 s run): no leak or collapse within it.
  soak: { rps_ratio: 0.2, rss_ratio: 0.5 },
  // 2k articles, 0.25 s rounds: at load average 12 on two cores cached ÷ hello was 0.39, cached ÷
  // uncached 2.5 and the 1 s Zipf mix's hit ratio 0.65. The hit-ratio floor catches a cache that
  // stores nothing (0); speedup catches a cached path that stalls grossly, not a small loss.
  cache: { ratio_vs_hello: 0.1, speedup: 0.5, hit_ratio: 0.3 },
  // 60k comments: the advisor's index is ~7× faster than the seq scan it replaces (86× by HypoPG's
  // estimate; at 20k a run at load average 11 gave 1.5, below the floor: a call's fixed cost hid the
  // scan); a migration that was not applied, or a plan that ignores it, scores ~1.
  tune: { ratio: 2, estimated_cost_ratio: 5 },
  // Scale 1, 1 s phases: every row committed by T is restored (and, checked below, nothing else).
  recovery: { rows_at_t_ratio: 1 },
  // Scale 1 (1k articles): a common word's matches are few hundred, so the tiers win by little
  // and rare words (a few matches) cost the walk's fixed probes: ~0.5. Identity is checked below.
  search: { search_ratio: 0.2, search_common_ratio: 0.2, search_rare_ratio: 0.05, search_multi_ratio: 0.1 },
  // Against pgbench at load average 17: library 0.056, API 0.015 of the C client (Node.js gets one
  // core's share among many); the floors catch a variant that reads nothing or fails.
  baseline: { library_ratio: 0.005, api_ratio: 0.001, article_vs_select_ratio: 0.1 },
  // 20 and 40 req/s offered: served in full on a loaded machine (0.98 at 100 req/s, load 11).
  load: { r20_achieved_ratio: 0.5, r40_achieved_ratio: 0.5 },
  // Past the knee goodput stays a share of the knee's (0.59 at load 12), and every 503 says when to retry.
  stress: { past_goodput_ratio: 0.05, past_retry_after_share: 1 },
  // Ratios of COPY, small by nature (0.02 one a call, 0.6 a hundred, 0.006 API at load 18).
  // one_trip_*: one round trip ÷ tx()'s four for the same event write; 1.9 at 16 callers, 1.1 at 1
  // (the WAL flush dominates) at load 12–19. A pipeline that stalls (waits on a timer, a lost Sync)
  // scores far below. With 1 ms added to each round trip (a proxy) three saved trips show: 1.5–2.6
  // (at 16 callers a CPU-saturated machine caps both); a broken comparison gives ~1 or less.
  write: { library_ratio: 0.001, library_batch_ratio: 0.02, api_ratio: 0.0005, one_trip_ratio: 0.3, one_trip_ratio_1: 0.3, one_trip_ratio_nosync_1: 0.3, one_trip_ratio_rtt1ms: 1.1 },
  // Two replicas on the same two cores add no capacity (0.8 of no replica at load 16); with 10 %
  // writes in read-your-writes sessions the replicas served every read there (share 1.0).
  replicas: { replica_read_share: 0.5 },
  // Batched point reads ÷ one statement each: 5.9 at 32 callers; ~0.8–1 at 1 caller (load 8–12).
  roundtrips: { batch_ratio: 1, batch_ratio_1: 0.3 },
};
export const DEFAULT_FLOOR = 0.2;

/** Tiny scales and short rounds for every scenario. */
export const ENV = {
  BENCH_SCHEMA_SCALE: '1',
  BENCH_HTTP_SCALE: '1',
  BENCH_META_SCALE: '2',
  BENCH_META_ROUNDS: '3',
  BENCH_SECONDS: '0.25',
  BENCH_ROUNDS: '5',
  BENCH_SOAK_SECONDS: '2',
  BENCH_CACHE_ARTICLES: '2000',
  BENCH_CACHE_MIX_SECONDS: '1',
  BENCH_TUNE_COMMENTS: '60000',
  BENCH_RECOVERY_SCALE: '1',
  BENCH_RECOVERY_PHASE_MS: '1000',
  BENCH_SEARCH_SCALE: '1',
  BENCH_SEARCH_ROUNDS: '2',
  BENCH_SEARCH_HTTP_SECONDS: '1',
  BENCH_BASELINE_SCALE: '1',
  // Four connections per variant, not 16: the tests beside it share the server's 100 connections.
  BENCH_BASELINE_CLIENTS: '4',
  BENCH_LOAD_RATES: '20,40',
  BENCH_LOAD_SECONDS: '1',
  BENCH_LOAD_ROUNDS: '2',
  BENCH_STRESS_START: '50',
  BENCH_STRESS_FACTOR: '2',
  BENCH_STRESS_STEP_SECONDS: '1',
  BENCH_STRESS_MAX_STEPS: '5',
  BENCH_REPLICAS_MIX_SECONDS: '1',
  BENCH_ROUNDTRIPS_ARTICLES: '200',
  // cluster reads by id from these (made one API write each): 1,000 cost ~5 s of a loaded run, 200 ~1 s.
  BENCH_CLUSTER_ARTICLES: '200',
  // failover: writers run 0.5 s before each of its three disruptions and 1.5 s after the new leader
  // (not 1.5 s and 3 s): enough writes on both sides for its counts, 7.5 s less of the run.
  BENCH_FAILOVER_BEFORE_MS: '500',
  BENCH_FAILOVER_AFTER_MS: '1500',
  // The smoke run checks figures, not reports (test/bench/report.test.ts does): nothing written.
  BENCH_OUT: 'off',
};

/** Runs `npm run bench -- name` (with how.bin: that pgpress's `pgpress bench name`, how.args
 *  after the name) at the tiny scale and checks its JSON line against the floors. */
export async function smokeRun(name: string, t: TestContext, how: StartOptions & { args?: string[] } = {}): Promise<void> {
  // baseline compares with pgbench: Debian's, installed with the server's binaries when missing.
  const pgbench: Record<string, string> = name === 'baseline' ? { BENCH_PGBENCH: ensureTool({ command: 'pgbench', candidates: [`${bindir()}/pgbench`], pkg: 'postgresql', neededBy: 'the baseline bench scenario' }) } : {};
  const run = startBench([name, ...(how.args ?? [])], { ...ENV, ...pgbench }, how);
  const timeout = setTimeout(() => run.kill(), 270_000);
  const { code, signal, stdout, stderr } = await run.done.finally(() => clearTimeout(timeout));
  assert.equal(code, 0, `${how.bin ?? 'bench/run.ts'} ${name} exited with ${code ?? signal}\n${stdout}\n${stderr}`);
  const results = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(results.length, 1, stdout);
  const r = results[0]!;
  t.diagnostic(JSON.stringify(r));
  checkFigures(name, r, stdout);
}

/** Checks a scenario's JSON line (r) against its sanity floors and its other invariants; stdout is
 *  the run's output, shown when a check fails. smokeRun's check, and report.test.ts's for soak. */
export function checkFigures(name: string, r: Record<string, unknown>, stdout: string): void {
  assert.equal(r.scenario, name);
  if (name === 'failover') {
    // No ratio here: safety counts. Synchronous mode loses no acknowledged write; no mode reports a committed write as failed.
    assert.deepEqual([r.acked_lost, r.failed_but_committed, r.async_failed_but_committed], [0, 0, 0], `acked_lost, failed_but_committed, async_failed_but_committed\n${stdout}`);
    assert.ok(typeof r.write_gap_s === 'number' && r.write_gap_s > 0 && r.write_gap_s < 60, `write_gap_s ${String(r.write_gap_s)}`);
    // The switchover with clients retrying under an Idempotency-Key: nothing they could not retry, every write acknowledged once.
    assert.deepEqual([r.switchover_unretryable, r.switchover_not_acked, r.switchover_acked_lost, r.switchover_duplicates], [0, 0, 0, 0], `switchover_unretryable, switchover_not_acked, switchover_acked_lost, switchover_duplicates\n${stdout}`);
    return;
  }
  const floors = { ...Object.fromEntries(Object.keys(r).filter((k) => /ratio/.test(k)).map((k) => [k, DEFAULT_FLOOR])), ...FLOORS[name] };
  assert.ok(Object.keys(floors).length > 0, `${name} reports no ratio`);
  const below = Object.entries(floors)
    .filter(([key, floor]) => !(typeof r[key] === 'number' && Number.isFinite(r[key]) && r[key] >= floor))
    .map(([key, floor]) => `${key} = ${String(r[key])} (floor ${floor})`);
  assert.deepEqual(below, [], `ratios below their sanity floor:\n${stdout}`);
  if ('errors' in r) assert.equal(r.errors, 0, `every request answered 2xx\n${stdout}`);
  if (name === 'schema') assert.equal(r.articles, 1000);
  if (name === 'search') assert.equal(r.top10_identical, true, `every first page equals the full ranking's\n${stdout}`);
  if (name === 'replicas') assert.equal(r.stale_reads, 0, `no read saw an article older than its caller wrote\n${stdout}`);
  if (name === 'recovery') assert.deepEqual([r.row_diff, r.rpo_acked_lost, r.checks_failed], [0, 0, 0], `row_diff, rpo_acked_lost, checks_failed\n${stdout}`);
}
