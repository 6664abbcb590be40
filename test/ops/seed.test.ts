// The data generator: counts, heavy-tailed popularity, searchable text, threads, partitions —
// and the `pgpress seed` / `pgpress maintain` commands end to end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { testDatabase } from '../harness/testDatabase.ts';

const run = promisify(execFile);
const { url } = await testDatabase();
const c = new pg.Client({ connectionString: url });
c.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await c.connect();
after(() => c.end());

const one = async (q: string): Promise<number> => Number((await c.query(q)).rows[0].n);

test('pgpress seed --scale 1 loads realistic data with COPY, then pgpress maintain refreshes the views', async () => {
  const env = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' };
  const seeded = await run(process.execPath, ['bin/pgpress.js', 'seed', '--scale', '1'], { env });
  assert.match(seeded.stdout, /Seeded 100 users, 1000 articles, 2000 comments, 10000 events/);
  assert.equal(await one('SELECT count(*) AS n FROM articles'), 1000);
  assert.equal(await one('SELECT count(*) AS n FROM article_events'), 10000);
  // Events landed in month partitions, not the default one.
  assert.equal(await one('SELECT count(*) AS n FROM article_events_default'), 0);
  // Heavy tail: the top 1 % of articles draw a large share of the events.
  const share = await one(`SELECT (sum(n) FILTER (WHERE rk <= 10))::float / sum(n) AS n
    FROM (SELECT count(*) AS n, row_number() OVER (ORDER BY count(*) DESC) AS rk FROM article_events GROUP BY article_id) x`);
  assert.ok(share > 0.25, `top 10 articles have ${(share * 100).toFixed(0)} % of events`);
  // Real-looking text: full-text search finds topic words; some comments are replies.
  assert.ok((await one("SELECT count(*) AS n FROM articles WHERE search @@ websearch_to_tsquery('english', 'replication')")) > 10);
  assert.ok((await one('SELECT count(*) AS n FROM comments WHERE parent_id IS NOT NULL')) > 100);
  assert.ok((await one("SELECT count(DISTINCT metadata->>'lang') AS n FROM articles")) >= 4);
  // Nothing is dated in the future: a feed ordered by publication must not lead with tomorrow.
  assert.equal(await one('SELECT count(*) AS n FROM articles WHERE published_at > now() OR updated_at > now() OR created_at > now()'), 0);
  assert.equal(await one('SELECT count(*) AS n FROM articles WHERE published_at < created_at'), 0);

  const maintained = await run(process.execPath, ['bin/pgpress.js', 'maintain'], { env });
  assert.match(maintained.stdout, /article_events: created/);
  assert.match(maintained.stdout, /article_analytics: refreshed/);
  const again = await run(process.execPath, ['bin/pgpress.js', 'maintain'], { env });
  assert.match(again.stdout, /article_events: created \[\], retired \[\], moved 0/);
  assert.match(again.stdout, /article_analytics: skipped \(nothing new\)/);
  assert.equal(await one('SELECT count(*) AS n FROM article_analytics'), 1000);
});
