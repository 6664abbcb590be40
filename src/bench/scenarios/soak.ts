// soak: the full stack under a steady mixed load (reads, feed, search, event ingestion, comment
// writes) for BENCH_SOAK_SECONDS, in windows. A leak or a slow degradation shows as memory that
// keeps climbing or throughput that falls from the first windows to the last ones; the database is
// sampled at each window too (connections, dead tuples, WAL rate, table and index size, autovacuum
// runs), and a figure that drifts between the first and the last quarter is flagged.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Cluster } from '../../db/cluster.ts';
import { seed } from '../../ops/seed/seed.ts';
import { tokenService } from '../../security/tokens.ts';
import { benchDatabase } from '../benchDatabase.ts';
import { loadMix, shippedServer, startServerProcess, type LoadRequest, type LoadResult } from '../httpLoad.ts';
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from '../scenario.ts';

/** Seed scale of the database the HTTP scenarios serve (the smoke run uses 1). */
const SCALE = Number(process.env.BENCH_HTTP_SCALE ?? 5);
const CONNECTIONS = 32;
const WINDOWS = 8;
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 120);

/** Request i of the mix: 60% article reads, 15% feed, 5% search, 15% events, 5% comments. */
export function soakMix(ids: readonly string[], token: string): () => LoadRequest {
  let i = 0;
  const json = { 'content-type': 'application/json' };
  return () => {
    const n = i++;
    const id = ids[(n * 7919) % ids.length]!;
    const slot = n % 20;
    if (slot < 12) return { method: 'GET', path: `/v1/articles/${id}` };
    if (slot < 15) return { method: 'GET', path: '/v1/feed?limit=20' };
    if (slot < 16) return { method: 'GET', path: '/v1/search?q=replication&limit=10' };
    if (slot < 19) return { method: 'POST', path: '/v1/events', headers: json, body: JSON.stringify({ articleId: Number(id), kind: 'view' }) };
    return { method: 'POST', path: `/v1/articles/${id}/comments`, headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ body: `soak comment ${n}` }) };
  };
}

/** The database's side of a window. */
interface DbSample {
  at: number;
  connections: number;
  deadTuples: number;
  /** autovacuum + autoanalyze runs so far. */
  autovacuums: number;
  walBytes: number;
  tableBytes: number;
  indexBytes: number;
}

const DB_SAMPLE = `
SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS connections,
       coalesce(sum(n_dead_tup), 0) AS dead,
       coalesce(sum(autovacuum_count + autoanalyze_count), 0) AS autovacuums,
       pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint AS wal,
       coalesce(sum(pg_table_size(relid)), 0) AS tables,
       coalesce(sum(pg_indexes_size(relid)), 0) AS indexes
  FROM pg_stat_user_tables`;

async function sampleDb(c: pg.Client): Promise<DbSample> {
  const r = (await c.query<Record<string, string>>(DB_SAMPLE)).rows[0]!;
  return { at: Date.now() / 1000, connections: Number(r.connections), deadTuples: Number(r.dead), autovacuums: Number(r.autovacuums), walBytes: Number(r.wal), tableBytes: Number(r.tables), indexBytes: Number(r.indexes) };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const r3 = (x: number): number => Number(x.toFixed(3));

/** Last quarter ÷ first quarter of each figure, and which drift past their bound. */
export function driftOf(windows: readonly { rps: number; rssMb: number; walRate: number; connections: number; indexShare: number }[]): { figures: Record<string, number>; drifting: string[] } {
  const quarter = Math.max(1, Math.floor(windows.length / 4));
  const q = (k: keyof (typeof windows)[number]): number => mean(windows.slice(-quarter).map((w) => w[k])) / mean(windows.slice(0, quarter).map((w) => w[k]));
  const figures = {
    rps_ratio: r3(q('rps')),
    rss_ratio: r3(q('rssMb')),
    wal_rate_growth: r3(q('walRate')),
    connections_growth: r3(q('connections')),
    index_share_growth: r3(q('indexShare')),
  };
  // Bounds: what a steady service stays within on a shared machine (a step of the machine's load
  // moves throughput and WAL rate by a fifth; a leak or bloat keeps going).
  const bounds: [keyof typeof figures, (x: number) => boolean][] = [
    ['rps_ratio', (x) => x < 0.7],
    ['rss_ratio', (x) => x > 1.3],
    ['wal_rate_growth', (x) => x > 1.5 || x < 0.5],
    ['connections_growth', (x) => x > 1.5],
    ['index_share_growth', (x) => x > 1.2],
  ];
  return { figures, drifting: bounds.filter(([k, bad]) => Number.isFinite(figures[k]) && bad(figures[k])).map(([k]) => k) };
}

/** Throughput, memory and the database's figures of the last quarter of the windows against the first. */
async function runSoak(ctx: ScenarioContext): Promise<ScenarioResult> {
  const db = await benchDatabase();
  const cluster = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  const secret = randomBytes(32).toString('hex');
  const env = { DATABASE_URL: db.url, JWT_SECRET: secret, RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent', REDIS_URL: '' };
  const server = await startServerProcess(shippedServer('full'), env);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    ctx.progress(0, 'seeding');
    await seed(cluster, { scale: SCALE, seed: 1 }); // scale 5: 5k articles, 50k events
    const { rows } = await c.query<{ id: string; author_id: string }>("SELECT id::text, author_id::text FROM articles WHERE status = 'published' ORDER BY id LIMIT 1000");
    const token = tokenService(secret).sign({ userId: Number(rows[0]!.author_id), role: 'author' }, SECONDS + 600);
    const next = soakMix(rows.map((r) => r.id), token);
    const windows: (LoadResult & { rssMb: number; db: DbSample; walRate: number; connections: number; indexShare: number })[] = [];
    const windowSeconds = SECONDS / WINDOWS;
    ctx.progress(0.05, 'warm-up');
    await loadMix(server.url, next, CONNECTIONS, Math.min(5, windowSeconds)); // warm-up: JIT, prepared statements, pools
    let before = await sampleDb(c);
    for (let w = 0; w < WINDOWS; w++) {
      ctx.progress(0.1 + (0.9 * w) / WINDOWS, `window ${w + 1}/${WINDOWS}`);
      const r = await loadMix(server.url, next, CONNECTIONS, windowSeconds);
      const after = await sampleDb(c);
      const walRate = (after.walBytes - before.walBytes) / (after.at - before.at);
      windows.push({ ...r, rssMb: server.rssMb(), db: after, walRate, connections: after.connections, indexShare: after.indexBytes / Math.max(1, after.tableBytes) });
      console.log(
        `window ${w + 1}/${WINDOWS}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms, RSS ${server.rssMb().toFixed(0)} MiB, ${r.errors} errors, ${r.non2xx} non-2xx; ` +
          `db: ${after.connections} connections, ${after.deadTuples} dead tuples, WAL ${(walRate / 1048576).toFixed(2)} MiB/s, tables ${(after.tableBytes / 1048576).toFixed(1)} MiB, indexes ${(after.indexBytes / 1048576).toFixed(1)} MiB, ${after.autovacuums} autovacuum/analyze runs`,
      );
      before = after;
    }
    const quarter = Math.max(1, Math.floor(WINDOWS / 4));
    const first = windows.slice(0, quarter);
    const last = windows.slice(-quarter);
    const errors = windows.reduce((n, x) => n + x.errors + x.non2xx, 0);
    const drift = driftOf(windows);
    const firstDb = windows[0]!.db;
    const lastDb = windows[windows.length - 1]!.db;
    const minutes = (lastDb.at - firstDb.at) / 60 || 1;
    console.log(`${SECONDS} s at ${CONNECTIONS} connections: first quarter ${mean(first.map((x) => x.rps)).toFixed(0)} req/s, last quarter ${mean(last.map((x) => x.rps)).toFixed(0)} req/s; RSS ${mean(first.map((x) => x.rssMb)).toFixed(0)} → ${mean(last.map((x) => x.rssMb)).toFixed(0)} MiB (max ${Math.max(...windows.map((x) => x.rssMb)).toFixed(0)}); ${errors} errors`);
    console.log(`drift: ${drift.drifting.length === 0 ? 'none' : drift.drifting.join(', ')}`);
    const figures: Record<string, Figure> = {
      // Last quarter ÷ first quarter: ~1 when nothing degrades; a leak pushes rss_ratio up window by window.
      ...drift.figures,
      drift: drift.drifting.length === 0 ? 'none' : drift.drifting.join(' '),
      rps: Math.round(mean(windows.map((x) => x.rps))),
      p99_ms: Math.max(...windows.map((x) => x.p99)),
      rss_max_mb: Math.round(Math.max(...windows.map((x) => x.rssMb))),
      dead_tuples_end: lastDb.deadTuples,
      autovacuum_runs: lastDb.autovacuums - firstDb.autovacuums,
      wal_mb_per_s: Number((mean(windows.map((w) => w.walRate)) / 1048576).toFixed(3)),
      table_growth_mb_per_min: Number(((lastDb.tableBytes - firstDb.tableBytes) / 1048576 / minutes).toFixed(2)),
      index_growth_mb_per_min: Number(((lastDb.indexBytes - firstDb.indexBytes) / 1048576 / minutes).toFixed(2)),
      requests: windows.reduce((n, x) => n + x.total, 0),
      errors,
    };
    const x = windows.map((w) => w.db.at);
    return {
      figures,
      charts: [
        { title: 'Soak: dead tuples and autovacuum runs', unit: 'count', x, series: { 'dead tuples': windows.map((w) => w.db.deadTuples), 'autovacuum + autoanalyze runs': windows.map((w) => w.db.autovacuums) } },
        { title: 'Soak: WAL rate', unit: 'MiB/s', x, series: { wal: windows.map((w) => w.walRate / 1048576) } },
        { title: 'Soak: table and index size', unit: 'MiB', x, series: { tables: windows.map((w) => w.db.tableBytes / 1048576), indexes: windows.map((w) => w.db.indexBytes / 1048576) } },
      ],
    };
  } finally {
    await c.end();
    await server.stop();
    await cluster.close();
    await db.drop();
  }
}

export const soak: Scenario = {
  name: 'soak',
  description: 'The full stack under a steady mix (reads, feed, search, events, comments) in windows; memory, throughput and the database (connections, dead tuples, WAL rate, table and index growth, autovacuum runs) compared first quarter to last, drift flagged.',
  run: runSoak,
};
