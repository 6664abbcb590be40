// soak: the full stack under a steady mixed load (reads, feed, search, event ingestion, comment
// writes) for BENCH_SOAK_SECONDS, in windows. A leak or a slow degradation shows as memory that
// keeps climbing or throughput that falls from the first windows to the last ones.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Cluster } from '../src/db/cluster.ts';
import { seed } from '../src/ops/seed/seed.ts';
import { tokenService } from '../src/security/tokens.ts';
import { benchDatabase } from './benchDatabase.ts';
import { loadMix, startServerProcess, type LoadRequest, type LoadResult } from './httpLoad.ts';

/** Seed scale of the database the HTTP scenarios serve (the smoke run uses 1). */
const SCALE = Number(process.env.BENCH_HTTP_SCALE ?? 5);
const CONNECTIONS = 32;
const WINDOWS = 8;
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 120);

/** Request i of the mix: 60% article reads, 15% feed, 5% search, 15% events, 5% comments. */
function mix(ids: readonly string[], token: string): () => LoadRequest {
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

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Throughput and memory of the last quarter of the windows against the first quarter. */
export async function soak(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const cluster = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  const secret = randomBytes(32).toString('hex');
  const env = { DATABASE_URL: db.url, JWT_SECRET: secret, RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent', REDIS_URL: '' };
  const server = await startServerProcess('bench/servers/full.ts', env);
  try {
    await seed(cluster, { scale: SCALE, seed: 1 }); // scale 5: 5k articles, 50k events
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query<{ id: string; author_id: string }>("SELECT id::text, author_id::text FROM articles WHERE status = 'published' ORDER BY id LIMIT 1000");
    await c.end();
    const token = tokenService(secret).sign({ userId: Number(rows[0]!.author_id), role: 'author' }, SECONDS + 600);
    const next = mix(rows.map((r) => r.id), token);
    const windows: (LoadResult & { rssMb: number })[] = [];
    const windowSeconds = SECONDS / WINDOWS;
    await loadMix(server.url, next, CONNECTIONS, Math.min(5, windowSeconds)); // warm-up: JIT, prepared statements, pools
    for (let w = 0; w < WINDOWS; w++) {
      const r = await loadMix(server.url, next, CONNECTIONS, windowSeconds);
      windows.push({ ...r, rssMb: server.rssMb() });
      console.log(`window ${w + 1}/${WINDOWS}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms, RSS ${server.rssMb().toFixed(0)} MiB, ${r.errors} errors, ${r.non2xx} non-2xx`);
    }
    const quarter = Math.max(1, Math.floor(WINDOWS / 4));
    const first = windows.slice(0, quarter);
    const last = windows.slice(-quarter);
    const errors = windows.reduce((n, x) => n + x.errors + x.non2xx, 0);
    console.log(`${SECONDS} s at ${CONNECTIONS} connections: first quarter ${mean(first.map((x) => x.rps)).toFixed(0)} req/s, last quarter ${mean(last.map((x) => x.rps)).toFixed(0)} req/s; RSS ${mean(first.map((x) => x.rssMb)).toFixed(0)} → ${mean(last.map((x) => x.rssMb)).toFixed(0)} MiB (max ${Math.max(...windows.map((x) => x.rssMb)).toFixed(0)}); ${errors} errors`);
    return {
      // Last quarter ÷ first quarter: ~1 when nothing degrades; a leak pushes rss_ratio up window by window.
      rps_ratio: Number((mean(last.map((x) => x.rps)) / mean(first.map((x) => x.rps))).toFixed(3)),
      rss_ratio: Number((mean(last.map((x) => x.rssMb)) / mean(first.map((x) => x.rssMb))).toFixed(3)),
      rps: Math.round(mean(windows.map((x) => x.rps))),
      p99_ms: Math.max(...windows.map((x) => x.p99)),
      rss_max_mb: Math.round(Math.max(...windows.map((x) => x.rssMb))),
      requests: windows.reduce((n, x) => n + x.total, 0),
      errors,
    };
  } finally {
    await server.stop();
    await cluster.close();
    await db.drop();
  }
}
