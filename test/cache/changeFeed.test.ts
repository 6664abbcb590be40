// The database change feed: writes made outside pgpress (a plain pg client, as psql would) reach
// onTags within a bound, and nothing is missed across a dropped connection, a late commit or a restart.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startChangeFeed, type StartChangeFeedOptions } from '../../src/cache/changeFeed.ts';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { cursorOutlivedRetention, redisCursorStore, type ChangeCursor, type ChangeCursorStore } from '../../src/cache/changeFeedCursor.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { ADMIN_URL, REDIS_URL } from '../harness/services.ts';

const db = await testDatabase();
const log = createLogger('silent');
// The promised bound for a NOTIFY-driven delivery; measured figures are printed.
const BOUND_MS = 1000;

const psql = new pg.Client({ connectionString: db.url });
// The file's database is dropped WITH (FORCE) before this client's after() runs: that end is expected.
psql.on('error', () => undefined);
await psql.connect();
after(() => psql.end());

const author = (await psql.query<{ id: string }>(
  `INSERT INTO users (email, username, display_name) VALUES ('feed@example.com', 'feed_author', 'Feed') RETURNING id`,
)).rows[0]!.id;

async function article(slug: string): Promise<string> {
  const r = await psql.query<{ id: string }>(
    `INSERT INTO articles (author_id, title, slug, tags) VALUES ($1, 'T', $2, ARRAY['pg','cache']) RETURNING id`,
    [author, slug],
  );
  return r.rows[0]!.id;
}

/** Every batch onTags received, with when it arrived. */
function collector(): { batches: { tags: string[]; at: number }[]; seen: Set<string>; until: (tag: string, ms: number) => Promise<number> } {
  const batches: { tags: string[]; at: number }[] = [];
  const seen = new Set<string>();
  return {
    batches,
    seen,
    async until(tag: string, ms: number): Promise<number> {
      const deadline = Date.now() + ms;
      while (!seen.has(tag)) {
        if (Date.now() > deadline) throw new Error(`tag ${tag} not delivered within ${ms} ms; got ${[...seen].join(' ')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return batches.find((b) => b.tags.includes(tag))!.at;
    },
  };
}

function feedOpts(c: ReturnType<typeof collector>, extra: Partial<StartChangeFeedOptions> = {}): StartChangeFeedOptions {
  return {
    url: db.url,
    log,
    // A poll far beyond the bound: what arrives within it came through the NOTIFY wake-up.
    pollMs: 60_000,
    onTags: (tags) => {
      c.batches.push({ tags, at: Date.now() });
      for (const t of tags) c.seen.add(t);
    },
    ...extra,
  };
}

test('an UPDATE from a plain client reaches onTags with the article, author, tag, feed and search tags within the bound', async () => {
  const c = collector();
  const feed = await startChangeFeed(feedOpts(c));
  try {
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await article(`bound-${i}`));
    await c.until(`article:${ids[19]}`, BOUND_MS * 5);
    const latencies: number[] = [];
    for (const id of ids) {
      c.batches.length = 0;
      c.seen.clear();
      const t0 = Date.now();
      await psql.query(`UPDATE articles SET title = 'changed outside pgpress' WHERE id = $1`, [id]);
      latencies.push((await c.until(`article:${id}`, BOUND_MS * 5)) - t0);
      const batch = c.batches.find((b) => b.tags.includes(`article:${id}`))!;
      for (const t of [`author:${author}`, 'tag:pg', 'tag:cache', 'feed:*', 'search:*']) assert.ok(batch.tags.includes(t), `missing ${t} in ${batch.tags.join(' ')}`);
    }
    latencies.sort((a, b) => a - b);
    const p50 = latencies[latencies.length >> 1]!;
    const max = latencies[latencies.length - 1]!;
    console.log(`change feed: UPDATE commit → onTags over ${latencies.length} updates: p50 ${p50} ms, max ${max} ms (bound ${BOUND_MS} ms)`);
    assert.ok(max < BOUND_MS, `slowest delivery ${max} ms exceeds the ${BOUND_MS} ms bound`);
  } finally {
    await feed.stop();
  }
});

test('a terminated LISTEN connection misses nothing written while it was down', async () => {
  const c = collector();
  // A slow first reconnect leaves time to write while the feed is certainly down.
  const feed = await startChangeFeed(feedOpts(c, { reconnectMinMs: 1500, reconnectMaxMs: 1500 }));
  try {
    const ids = [await article('down-1'), await article('down-2'), await article('down-3')];
    await c.until(`article:${ids[2]}`, BOUND_MS * 5);
    c.seen.clear();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgpress-cache-listen'`,
        [db.name],
      );
      assert.equal(killed.rowCount, 1);
    } finally {
      await admin.end();
    }
    const downDeadline = Date.now() + 2000;
    while (feed.connected) {
      assert.ok(Date.now() < downDeadline, 'the feed never noticed its connection was terminated');
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const id of ids) await psql.query(`UPDATE articles SET body = 'written while the feed was down' WHERE id = $1`, [id]);
    await psql.query(`UPDATE users SET bio = 'down' WHERE id = $1`, [author]);
    assert.equal(feed.connected, false, 'the writes must land while the feed is down');
    for (const id of ids) await c.until(`article:${id}`, 5000);
    await c.until(`user:${author}`, 5000);
    assert.equal(feed.connected, true);
  } finally {
    await feed.stop();
  }
});

test('a transaction that took a lower log id but commits after a later one is still delivered', async () => {
  const c = collector();
  const feed = await startChangeFeed(feedOpts(c));
  const slow = new pg.Client({ connectionString: db.url });
  await slow.connect();
  try {
    const early = await article('late-commit-early');
    const later = await article('late-commit-later');
    await c.until(`article:${later}`, BOUND_MS * 5);
    await slow.query('BEGIN');
    await slow.query(`UPDATE articles SET title = 'slow' WHERE id = $1`, [early]);
    // Cleared before the write, not after it: the NOTIFY and the feed's read can beat psql's own
    // reply to this process (seen under load), and a clear after the await erased that delivery.
    c.seen.clear();
    await psql.query(`UPDATE articles SET title = 'fast' WHERE id = $1`, [later]);
    await c.until(`article:${later}`, BOUND_MS);
    assert.equal(c.seen.has(`article:${early}`), false, 'an uncommitted change cannot have been delivered');
    const t0 = Date.now();
    await slow.query('COMMIT');
    await c.until(`article:${early}`, BOUND_MS);
    console.log(`change feed: late commit with a lower log id delivered ${Date.now() - t0} ms after its commit`);
  } finally {
    await slow.end();
    await feed.stop();
  }
});

test('a restarted feed with a stored cursor replays what was written while no feed ran; a cursor past retention calls onGap', async () => {
  let stored: ChangeCursor | undefined;
  const store: ChangeCursorStore = {
    load: () => Promise.resolve(stored),
    save: (cur) => {
      stored = cur;
      return Promise.resolve();
    },
  };
  const first = collector();
  const feed1 = await startChangeFeed(feedOpts(first, { cursorStore: store }));
  const id = await article('restart');
  await first.until(`article:${id}`, BOUND_MS * 5);
  await feed1.stop();
  assert.ok(stored, 'the feed stored its cursor');

  await psql.query(`UPDATE articles SET title = 'while stopped' WHERE id = $1`, [id]);
  const second = collector();
  let gaps = 0;
  const feed2 = await startChangeFeed(feedOpts(second, { cursorStore: store, onGap: () => void gaps++ }));
  try {
    await second.until(`article:${id}`, BOUND_MS);
    assert.equal(gaps, 0);
  } finally {
    await feed2.stop();
  }

  stored = { xmin: stored.xmin, at: new Date(Date.now() - 3_600_000) };
  const third = collector();
  const feed3 = await startChangeFeed(feedOpts(third, { cursorStore: store, retentionMs: 60_000, onGap: () => void gaps++ }));
  await feed3.stop();
  assert.equal(gaps, 1, 'a cursor older than the retention cannot prove nothing was pruned: onGap');
});

test('log rows older than the retention are pruned; recent ones stay', async () => {
  await psql.query(`UPDATE pgpress_cache_changes SET at = now() - interval '2 hours'`);
  const id = await article('prune-recent');
  const c = collector();
  const feed = await startChangeFeed(feedOpts(c, { retentionMs: 3_600_000, pruneEveryMs: 50 }));
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const old = await psql.query(`SELECT count(*)::int AS n FROM pgpress_cache_changes WHERE at < now() - interval '1 hour'`);
      if (old.rows[0].n === 0) break;
      assert.ok(Date.now() < deadline, `old rows left: ${old.rows[0].n}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const recent = await psql.query(`SELECT count(*)::int AS n FROM pgpress_cache_changes WHERE $1 = ANY (tags)`, [`article:${id}`]);
    assert.equal(recent.rows[0].n, 1);
  } finally {
    await feed.stop();
  }
});

test('the Redis cursor store keeps the cursor across clients; a missing or malformed one loads as none', async () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const key = `pgpress:test:changefeed:${randomBytes(5).toString('hex')}`;
  try {
    const store = redisCursorStore(redis, key);
    assert.equal(await store.load(), undefined);
    const at = new Date('2026-01-02T03:04:05.678Z');
    await store.save({ xmin: '123456', at });
    assert.deepEqual(await redisCursorStore(redis, key).load(), { xmin: '123456', at });
    await redis.set(key, '{"xmin":"1; DROP","at":"x"}');
    assert.equal(await store.load(), undefined);
    assert.equal(cursorOutlivedRetention({ xmin: '1', at }, new Date(at.getTime() + 61_000), 60_000), true);
    assert.equal(cursorOutlivedRetention({ xmin: '1', at }, new Date(at.getTime() + 59_000), 60_000), false);
  } finally {
    await redis.del(key);
    redis.disconnect();
  }
});

test('a TRUNCATE, and a statement touching more than 1000 tags, reach onTags as the one tag *', async () => {
  const c = collector();
  const feed = await startChangeFeed(feedOpts(c));
  try {
    await psql.query('TRUNCATE comments');
    await c.until('*', BOUND_MS);
    assert.deepEqual(c.batches.find((b) => b.tags.includes('*'))!.tags, ['*']);
    c.batches.length = 0;
    c.seen.clear();
    // 600 users: user:ID and author:ID each, 1200 tags in one statement.
    await psql.query(
      `INSERT INTO users (email, username, display_name) SELECT 'bulk' || i || '@example.com', 'bulk_' || i, 'Bulk' FROM generate_series(1, 600) AS i`,
    );
    await c.until('*', BOUND_MS);
    assert.equal([...c.seen].some((t) => t.startsWith('user:')), false, 'the bulk statement logged * instead of 1200 tags');
  } finally {
    await feed.stop();
  }
});
