// `npm run bench -- schema`: what the content schema's indexes, views and partitions buy, each a
// speed-up (baseline ÷ optimized) measured in one run on a seeded database (scale 100: 100k
// articles, 1M events), variants interleaved A B A B.
import pg from 'pg';
import { Cluster } from '../src/db/cluster.ts';
import { TAIL_WORDS, seed, seedCounts } from '../src/ops/seed/seed.ts';
import { tailVocabulary } from '../src/ops/seed/words.ts';
import { refreshMatview } from '../src/ops/matviews.ts';
import { liveTopArticles7d, topArticles7d } from '../src/content/analytics/queries.ts';
import { searchArticles } from '../src/content/search/queries.ts';
import { feedFirstPage, feedNextPage } from '../src/content/feed/queries.ts';
import { benchDatabase } from './benchDatabase.ts';

const SCALE = Number(process.env.BENCH_SCHEMA_SCALE ?? 100);
const ROUNDS = 5;
// A query mix like real search traffic: common subject words (in ~10 % of articles) and words
// from the long tail of the vocabulary (ranks 10, 300 and 3000 of the invented names).
const TAIL = tailVocabulary(TAIL_WORDS);
const COMMON_TERMS = ['deadlocks', 'sharding', 'checkpoint fsync'];
const TAIL_TERMS = [TAIL[10]!, TAIL[300]!, TAIL[3000]!];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs baseline and optimized ROUNDS times each, interleaved; returns both medians (ms). */
async function interleave(baseline: () => Promise<unknown>, optimized: () => Promise<unknown>): Promise<{ base: number; opt: number }> {
  await baseline(); // warm caches for both, so neither pays the first read from disk
  await optimized();
  const b: number[] = [];
  const o: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    b.push(await timed(baseline));
    o.push(await timed(optimized));
  }
  return { base: median(b), opt: median(o) };
}

async function feedPages(c: pg.Client, pages: number): Promise<void> {
  let rows = (await c.query(feedFirstPage.text, [20])).rows;
  for (let i = 1; i < pages && rows.length > 0; i++) {
    const last = rows.at(-1)!;
    rows = (await c.query(feedNextPage.text, [20, last.published_us, last.id])).rows;
  }
}

/** Copies article_events into a fresh partitioned table with the same months (a retention subject). */
async function eventsCopy(c: pg.Client, name: string, months: string[]): Promise<void> {
  await c.query(`CREATE TABLE ${name} (LIKE article_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES) PARTITION BY RANGE (occurred_at)`);
  for (const m of months) {
    await c.query(`CREATE TABLE ${name}_${m.replace(/-/g, '_')} PARTITION OF ${name} FOR VALUES FROM ('${m}T00:00:00Z') TO (('${m}'::date + interval '1 month')::timestamp AT TIME ZONE 'UTC')`);
  }
  await c.query(`INSERT INTO ${name} SELECT * FROM article_events WHERE occurred_at >= '${months[0]}T00:00:00Z'`);
  await c.query(`VACUUM ANALYZE ${name}`);
}

/** The scenario. */
export async function schema(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const cluster = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  const c = new pg.Client({ connectionString: db.url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    const counts = seedCounts(SCALE);
    let t = performance.now();
    await seed(cluster, { scale: SCALE, seed: 1 });
    console.log(`seeded ${counts.articles} articles, ${counts.events} events, ${counts.comments} comments in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    await c.query('VACUUM ANALYZE articles');
    await refreshMatview(cluster, 'article_analytics', { force: true });
    await refreshMatview(cluster, 'user_engagement', { force: true });
    console.log(`vacuum + matview refresh ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Analytics: the top-10 dashboard from the view vs the same aggregate over the raw events.
    const analytics = await interleave(() => c.query(liveTopArticles7d.text, [10]), () => c.query(topArticles7d.text, [10]));
    console.log(`analytics top-10: live ${analytics.base.toFixed(1)} ms, view ${analytics.opt.toFixed(2)} ms`);

    // Search: ranked full text with snippets (GIN) vs the naive ILIKE scan, per class of term.
    const ilike = (terms: string[]) => async () => {
      for (const term of terms) await c.query("SELECT id, title FROM articles WHERE status = 'published' AND (title ILIKE $1 OR body ILIKE $1) ORDER BY published_at DESC LIMIT 10", [`%${term}%`]);
    };
    const ranked = (terms: string[]) => async () => {
      for (const term of terms) await c.query(searchArticles.text, [term, 10, 0]);
    };
    const common = await interleave(ilike(COMMON_TERMS), ranked(COMMON_TERMS));
    const rare = await interleave(ilike(TAIL_TERMS), ranked(TAIL_TERMS));
    for (const t of [...COMMON_TERMS, ...TAIL_TERMS]) {
      const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM articles WHERE search @@ websearch_to_tsquery('english', $1)", [t]);
      console.log(`  term ${JSON.stringify(t)}: ${rows[0]!.n} matching articles`);
    }
    console.log(`search, 3 common terms: ILIKE ${common.base.toFixed(1)} ms vs GIN ranked + snippets ${common.opt.toFixed(1)} ms; 3 rare terms: ILIKE ${rare.base.toFixed(1)} ms vs ${rare.opt.toFixed(1)} ms`);
    const search = { base: common.base + rare.base, opt: common.opt + rare.opt };

    // Feed: 20 keyset pages via the covering index vs the same queries with the index dropped,
    // and vs a plain index scan with heap fetches (index-only scans off). Every variant runs in
    // BEGIN … ROLLBACK so they pay the same round trips.
    const inTx = (setup: string | null) => async () => {
      await c.query('BEGIN');
      if (setup) await c.query(setup);
      await feedPages(c, 20);
      await c.query('ROLLBACK');
    };
    const feed = await interleave(inTx('DROP INDEX articles_feed_idx'), inTx(null));
    const feedIos = await interleave(inTx('SET LOCAL enable_indexonlyscan = off'), inTx(null));
    console.log(`feed 20 pages: no index ${feed.base.toFixed(1)} ms vs covering index ${feed.opt.toFixed(2)} ms; index scan with heap fetches ${feedIos.base.toFixed(2)} ms vs covering ${feedIos.opt.toFixed(2)} ms`);

    // Retention: retire a month by DELETE vs by detaching and dropping its partition, on two equal
    // copies of the events; each method takes each of two months once (A B, then B A).
    const months = (await c.query<{ m: string }>("SELECT m::text AS m FROM pgpress_partition_months('article_events') m")).rows.map((r) => r.m);
    const sizes = await c.query<{ m: string; n: string }>("SELECT to_char(date_trunc('month', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS m, count(*) AS n FROM article_events GROUP BY 1");
    const biggest = sizes.rows.sort((a, b) => Number(b.n) - Number(a.n)).slice(0, 2).map((r) => r.m);
    await eventsCopy(c, 'bench_events_a', months);
    await eventsCopy(c, 'bench_events_b', months);
    const del = (tbl: string, m: string) => () => c.query(`DELETE FROM ${tbl} WHERE occurred_at >= '${m}T00:00:00Z' AND occurred_at < ('${m}'::date + interval '1 month')::timestamp AT TIME ZONE 'UTC'`);
    const drop = (tbl: string, m: string) => async () => {
      await c.query(`ALTER TABLE ${tbl} DETACH PARTITION ${tbl}_${m.replace(/-/g, '_')}`);
      await c.query(`DROP TABLE ${tbl}_${m.replace(/-/g, '_')}`);
    };
    const deletes = [await timed(del('bench_events_a', biggest[0]!)), await timed(del('bench_events_b', biggest[1]!))];
    const drops = [await timed(drop('bench_events_b', biggest[0]!)), await timed(drop('bench_events_a', biggest[1]!))];
    const rows = sizes.rows.filter((r) => biggest.includes(r.m)).map((r) => r.n).join(' + ');
    const delMs = deletes.reduce((a, b) => a + b, 0);
    const dropMs = drops.reduce((a, b) => a + b, 0);
    console.log(`retention of 2 months (${rows} rows): DELETE ${delMs.toFixed(0)} ms, DETACH + DROP ${dropMs.toFixed(1)} ms`);

    const r = (x: { base: number; opt: number }): number => Number((x.base / x.opt).toFixed(1));
    return {
      analytics_ratio: r(analytics),
      search_ratio: r(search),
      retention_ratio: Number((delMs / dropMs).toFixed(1)),
      feed_ratio: r(feed),
      feed_ios_vs_index_scan_ratio: r(feedIos),
      search_common_ratio: r(common),
      search_rare_ratio: r(rare),
      articles: counts.articles,
      events: counts.events,
    };
  } finally {
    await c.end();
    await cluster.close();
    await db.drop();
  }
}
