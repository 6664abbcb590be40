// The fixture of the HTTP scenarios (load, stress): a seeded scratch database, the full stack in
// its own process, published article ids, and a bearer token for the writes that need one.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Cluster } from '../../db/cluster.ts';
import { seed } from '../../ops/seed/seed.ts';
import { tokenService } from '../../security/tokens.ts';
import { benchDatabase } from '../benchDatabase.ts';
import { shippedServer, startServerProcess, type ServerProcess } from '../httpLoad.ts';
import type { RoutedRequest } from '../openLoop.ts';

/** Seed scale of the database the HTTP scenarios serve (the smoke run uses 1). */
export const HTTP_SCALE = Number(process.env.BENCH_HTTP_SCALE ?? 5);

/** A seeded database served by the full stack. */
export interface ContentServer {
  server: ServerProcess;
  ids: string[];
  token: string;
  close(): Promise<void>;
}

/** Seeds a scratch database (scale HTTP_SCALE) and starts the full stack on it with env added:
 *  the rate limit off (the load comes from one IP), logs silent, shedding at its default. */
export async function contentServer(env: Record<string, string> = {}): Promise<ContentServer> {
  const db = await benchDatabase();
  const secret = randomBytes(32).toString('hex');
  const cluster = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess(shippedServer('full'), { DATABASE_URL: db.url, JWT_SECRET: secret, RATE_LIMIT_MAX: '0', MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent', REDIS_URL: '', ...env });
    await seed(cluster, { scale: HTTP_SCALE, seed: 1 });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query<{ id: string; author_id: string }>("SELECT id::text, author_id::text FROM articles WHERE status = 'published' ORDER BY id LIMIT 1000").finally(() => c.end());
    const token = tokenService(secret).sign({ userId: Number(rows[0]!.author_id), role: 'author' }, 24 * 3600);
    const s = server;
    return {
      server: s,
      ids: rows.map((r) => r.id),
      token,
      close: async () => {
        await s.stop();
        await cluster.close();
        await db.drop();
      },
    };
  } catch (e) {
    await server?.stop();
    await cluster.close();
    await db.drop();
    throw e;
  }
}

/** The load mix of concurrent users, by share of requests (of 20): article reads 10, feed pages 3,
 *  ranked search 1, comment lists 1, comment writes 1 (bearer token), events 4. */
export function userMix(ids: readonly string[], token: string): () => RoutedRequest {
  let i = 0;
  const json = { 'content-type': 'application/json' };
  const terms = ['replication', 'index', 'vacuum', 'latency'];
  return () => {
    const n = i++;
    const id = ids[(n * 7919) % ids.length]!;
    const slot = n % 20;
    if (slot < 10) return { route: 'read', method: 'GET', path: `/v1/articles/${id}` };
    if (slot < 13) return { route: 'feed', method: 'GET', path: '/v1/feed?limit=20' };
    if (slot < 14) return { route: 'search', method: 'GET', path: `/v1/search?q=${terms[n % terms.length]}&limit=10` };
    if (slot < 15) return { route: 'comments', method: 'GET', path: `/v1/articles/${id}/comments?limit=20` };
    if (slot < 16) return { route: 'comment', method: 'POST', path: `/v1/articles/${id}/comments`, headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ body: `load comment ${n}` }) };
    return { route: 'event', method: 'POST', path: '/v1/events', headers: json, body: JSON.stringify({ articleId: Number(id), kind: 'view' }) };
  };
}
