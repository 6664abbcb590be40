// Two deployments on different databases sharing one Redis: each serves its own rows, never the
// other's entries (the cache's Redis namespace comes from the database's identity).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startServer, type RunningServer } from '../../src/http/server.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { startOwnRedis } from '../harness/testRedis.ts';

const redis = await startOwnRedis();
const dbs = [await testDatabase(), await testDatabase()];

/** `pgpress serve` on url with the cache over the shared Redis. */
async function serve(url: string, extra: Record<string, string> = {}): Promise<RunningServer> {
  const settings = loadSettings({
    DATABASE_URL: url, REDIS_URL: redis.url, PORT: '0', LOG_LEVEL: 'silent', MIGRATE_ON_START: 'false', RATE_LIMIT_MAX: '0', SCHEDULER_ENABLED: 'false',
    PGPRESS_DATA_DIR: `/tmp/pgpress-namespace-${process.pid}`, JWT_SECRET: randomBytes(32).toString('hex'), ...extra,
  });
  return startServer(settings, createLogger('silent'));
}

/** One published article titled title in the database at url; its id (both databases hand out the same ids). */
async function article(url: string, title: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const author = (await c.query<{ id: string }>("INSERT INTO users (email, username, display_name) VALUES ('ns@example.com', 'ns_author', 'NS') RETURNING id")).rows[0]!.id;
    return (await c.query<{ id: string }>("INSERT INTO articles (author_id, title, slug, status, published_at) VALUES ($1, $2, 'shared-slug', 'published', now()) RETURNING id", [author, title])).rows[0]!.id;
  } finally {
    await c.end();
  }
}

const title = async (s: RunningServer, path: string): Promise<string> => {
  const res = await fetch(s.url + path);
  assert.equal(res.status, 200);
  return ((await res.json()) as { title: string }).title;
};

test('two databases behind one Redis: each deployment serves its own article under the same id and slug', async () => {
  const ids = [await article(dbs[0]!.url, 'from database one'), await article(dbs[1]!.url, 'from database two')];
  assert.equal(ids[0], ids[1], 'the clones hand out the same id: the case that would collide');
  const servers = [await serve(dbs[0]!.url), await serve(dbs[1]!.url)];
  try {
    for (const path of [`/v1/articles/${ids[0]}`, '/v1/articles/by-slug/shared-slug']) {
      // The first deployment reads (and stores in Redis) first; the second, its L1 empty, must not get that entry.
      assert.equal(await title(servers[0]!, path), 'from database one');
      assert.equal(await title(servers[1]!, path), 'from database two', `${path}: the second deployment served the first one's entry`);
      assert.equal(await title(servers[0]!, path), 'from database one');
    }
  } finally {
    for (const s of servers) await s.close();
  }
});
