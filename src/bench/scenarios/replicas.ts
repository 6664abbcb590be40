// `pgpress bench replicas`: on a throwaway primary with two streaming replicas of its own
// (src/bench/clusters.ts: PostgreSQL's server programs, Debian postgresql-15), article reads through the library with 0, 1 and 2 streaming replicas, interleaved; then, on 2 replicas,
// a mix with 10 % writes in which every caller carries its read-your-writes session: the share of
// reads the replicas served (from the Cluster's own per-target acquire counts) and the reads that
// saw an older version of an article than the caller had written (must be 0).
import pg from 'pg';
import { Registry } from 'prom-client';
import { PACKAGE_MIGRATIONS_DIR } from '../../config/packagePaths.ts';
import { Cluster } from '../../db/cluster.ts';
import { newSession } from '../../db/session.ts';
import { migrate } from '../../migrate/index.ts';
import { createDbMetrics } from '../../observability/metrics.ts';
import { seed } from '../../ops/seed/seed.ts';
import { createStore, type Store } from '../../store.ts';
import { throughput } from '../benchDatabase.ts';
import { startCluster } from '../clusters.ts';
import { interleaved, median, medianRatio } from '../measure.ts';
import { watchReplicaLag } from '../sampler.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';

const SCALE = Number(process.env.BENCH_REPLICAS_SCALE ?? 1);
const CALLERS = 32;
const POOL = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MIX_SECONDS = Number(process.env.BENCH_REPLICAS_MIX_SECONDS ?? 6);

/** Index scans on articles each replica has served (its own statistics: a standby counts the
 *  reads it runs; replicas run nothing else on articles). A backend's counts reach the view when it
 *  exits, so read this after closing the store that ran the reads. */
async function replicaArticleScans(urls: readonly string[]): Promise<number> {
  let n = 0;
  for (const u of urls) {
    const c = new pg.Client({ connectionString: u });
    await c.connect();
    try {
      const { rows } = await c.query<{ n: string }>("SELECT coalesce(sum(idx_scan), 0)::text AS n FROM pg_stat_user_tables WHERE relname = 'articles'");
      n += Number(rows[0]?.n ?? 0);
    } finally {
      await c.end();
    }
  }
  return n;
}

async function runReplicas(ctx: ScenarioContext): Promise<ScenarioResult> {
  ctx.progress(0, 'starting a primary and 2 replicas');
  // The cluster stops and removes itself on an aborted run (clusters.ts registers that).
  const cluster = await startCluster({ replicas: 2 });
  const stopLag = watchReplicaLag(cluster.primary.url);
  const stores: Store[] = [];
  try {
    await cluster.primary.query('CREATE DATABASE bench');
    const url = (u: string): string => u.replace(/\/postgres$/, '/bench');
    await migrate({ url: url(cluster.primary.url), dir: PACKAGE_MIGRATIONS_DIR });
    const seeder = new Cluster({ url: url(cluster.primary.url), max: 2, statementTimeoutMs: 0 });
    await seed(seeder, { scale: SCALE, seed: 1 }).finally(() => seeder.close());
    for (const r of cluster.replicas) await cluster.waitForReplica(r, undefined, 120_000);
    const ids = await articleIds(url(cluster.primary.url));
    const replicaUrls = cluster.replicas.map((r) => url(r.url));
    const open = (n: number): Promise<Store> => createStore({ url: url(cluster.primary.url), replicaUrls: replicaUrls.slice(0, n), pool: { max: POOL, metrics: createDbMetrics(new Registry()) } });
    for (let n = 0; n <= 2; n++) stores.push(await open(n));
    const pick = (): number => ids[Math.floor(Math.random() * ids.length)]!;
    type Variant = 'r0' | 'r1' | 'r2';
    const variants: Variant[] = ['r0', 'r1', 'r2'];
    let done = 0;
    // Replicas join the rotation once their first health check passes: read until each store has used them.
    await throughput(CALLERS, 1000, () => stores[2]!.articles.get(pick()));
    const qps = await interleaved(variants, ROUNDS, (v) => {
      ctx.progress(0.2 + (0.5 * done++) / (3 * (ROUNDS + 1)), `reads with ${v.slice(1)} replicas`);
      return throughput(CALLERS, SECONDS * 1000, () => stores[Number(v.slice(1))]!.articles.get(pick()));
    });

    // The mix on 2 replicas: caller i owns article mine[i] (no write conflicts), writes it in 1 of
    // 10 operations and reads it or another article in the others, always in its own session.
    ctx.progress(0.75, 'mix: 10 % writes, read-your-writes sessions');
    while (stores.length > 0) await stores.pop()!.close();
    const before = await replicaArticleScans(replicaUrls);
    const store = await open(2);
    stores.push(store);
    let reads = 0;
    let writes = 0;
    let stale = 0;
    const mine = ids.slice(0, CALLERS);
    const end = performance.now() + MIX_SECONDS * 1000;
    await Promise.all(
      mine.map(async (own, caller) => {
        const session = newSession();
        let version = (await store.articles.get(own, { session })).version;
        reads++;
        for (let op = caller; performance.now() < end; op++) {
          if (op % 10 === 0) {
            version = (await store.articles.update(own, version, { title: `Replica bench ${caller}.${op}` }, { session })).version;
            writes++;
          } else {
            const id = op % 2 === 0 ? own : pick();
            const a = await store.articles.get(id, { session });
            reads++;
            if (id === own && a.version < version) stale++;
          }
        }
      }),
    );
    await stores.pop()!.close();
    const replicaShare = (await replicaArticleScans(replicaUrls)) - before;
    const share = replicaShare / Math.max(1, reads);
    const m = (v: Variant): number => Math.round(median(qps[v]));
    console.log(`article reads/s with 0, 1, 2 replicas: ${m('r0')}, ${m('r1')}, ${m('r2')} (${CALLERS} callers, ${POOL} connections per server, medians of ${ROUNDS} interleaved ${SECONDS} s rounds)`);
    console.log(`mix on 2 replicas, 10 % writes, sessions: ${reads} reads, ${writes} writes; ${(100 * share).toFixed(1)} % of reads served by replicas; ${stale} stale reads`);
    return {
      figures: {
        one_replica_ratio: Number(medianRatio(qps.r1, qps.r0).toFixed(3)),
        two_replicas_ratio: Number(medianRatio(qps.r2, qps.r0).toFixed(3)),
        reads_0: m('r0'),
        reads_1: m('r1'),
        reads_2: m('r2'),
        replica_read_share: Number(share.toFixed(3)),
        mix_reads: reads,
        mix_writes: writes,
        stale_reads: stale,
      },
    };
  } finally {
    for (const s of stores) await s.close();
    stopLag();
    await cluster.destroy();
  }
}

async function articleIds(url: string): Promise<number[]> {
  const c = new Cluster({ url, max: 1, statementTimeoutMs: 0 });
  try {
    const { rows } = await c.query<{ id: string }>({ name: 'bench.replicas.ids', text: "SELECT id::text FROM articles WHERE status = 'published' ORDER BY id" }, []);
    return rows.map((r) => Number(r.id));
  } finally {
    await c.close();
  }
}

export const replicas: Scenario = {
  name: 'replicas',
  description: 'Article reads with 0, 1 and 2 streaming replicas (real clusters); on 2, the share of reads replicas serve under 10 % writes with read-your-writes sessions, and stale reads (must be 0).',
  onlyWhenNamed: 'starts a primary and two streaming replicas of its own from PostgreSQL\'s programs (Debian postgresql-15)',
  run: runReplicas,
};
