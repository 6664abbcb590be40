// `npm run bench -- schema`: what the content schema's view, indexes and partitions buy, each a
// speed-up (baseline ÷ optimized) against the best an application could do without them, measured
// in one run on a seeded database (scale 100: 100k articles, 1M events), rounds interleaved.
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../src/db/cluster.ts';
import { quoteIdent } from '../src/db/sql.ts';
import { TAIL_WORDS, seed, seedCounts } from '../src/ops/seed/seed.ts';
import { tailVocabulary } from '../src/ops/seed/words.ts';
import { refreshMatview } from '../src/ops/matviews.ts';
import { topArticles7d } from '../src/content/analytics/queries.ts';
import { searchArticles } from '../src/content/search/queries.ts';
import { feedFirstPage, feedNextPage } from '../src/content/feed/queries.ts';
import { benchDatabase } from './benchDatabase.ts';
import { interleaved, median, timed } from './measure.ts';
import { retention } from './retention.ts';
import { bestLiveTopArticles7d, plainFeedIndex } from './schemaQueries.ts';

const SCALE = Number(process.env.BENCH_SCHEMA_SCALE ?? 100);
const ROUNDS = 5;
const FEED_PAGES = 20;
// A query mix like real search traffic: common subject words (in ~10 % of articles) and words
// from the long tail of the vocabulary (ranks 10, 300 and 3000 of the invented names).
const TAIL = tailVocabulary(TAIL_WORDS);
const COMMON_TERMS = ['deadlocks', 'sharding', 'checkpoint fsync'];
const TAIL_TERMS = [TAIL[10]!, TAIL[300]!, TAIL[3000]!];

/** Baseline and optimized, interleaved after a warm-up of each; both medians (ms). */
async function compare(base: () => Promise<number>, opt: () => Promise<number>): Promise<{ base: number; opt: number }> {
  const ms = await interleaved(['base', 'opt'] as const, ROUNDS, (v) => (v === 'base' ? base() : opt()));
  return { base: median(ms.base), opt: median(ms.opt) };
}

/** Times work inside BEGIN … ROLLBACK after setup (e.g. dropping an index): only work is timed. */
function inRolledBackTx(c: pg.Client, setup: string | null, work: () => Promise<unknown>): () => Promise<number> {
  return async () => {
    await c.query('BEGIN');
    try {
      if (setup) await c.query(setup);
      return await timed(work);
    } finally {
      await c.query('ROLLBACK');
    }
  };
}

/** The ids of `pages` keyset feed pages of 20. */
async function feedPages(c: pg.Client, pages: number): Promise<string[]> {
  let rows = (await c.query<{ id: string; published_us: string }>(feedFirstPage.text, [20])).rows;
  const ids = rows.map((r) => r.id);
  for (let i = 1; i < pages && rows.length > 0; i++) {
    const last = rows.at(-1)!;
    rows = (await c.query<{ id: string; published_us: string }>(feedNextPage.text, [20, last.published_us, last.id])).rows;
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

/** The indexes the plan of text uses (EXPLAIN, no execution). */
async function planIndexes(c: pg.Client, text: string, params: unknown[]): Promise<string[]> {
  const { rows } = await c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params);
  return [...JSON.stringify(rows[0]!['QUERY PLAN']).matchAll(/"Index Name":"([^"]+)"/g)].map((m) => m[1]!);
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
    await c.query(plainFeedIndex);
    await c.query('VACUUM ANALYZE articles');
    await refreshMatview(cluster, 'article_analytics', { force: true });
    await refreshMatview(cluster, 'user_engagement', { force: true });
    console.log(`feed baseline index + vacuum + matview refresh ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Analytics: the top-10 dashboard from the view vs the best live query over the raw events.
    const liveTop = (await c.query<{ article_id: string }>(bestLiveTopArticles7d.text, [10])).rows.map((r) => r.article_id);
    const viewTop = (await c.query<{ article_id: string }>(topArticles7d.text, [10])).rows.map((r) => r.article_id);
    const analytics = await compare(
      () => timed(() => c.query(bestLiveTopArticles7d.text, [10])),
      () => timed(() => c.query(topArticles7d.text, [10])),
    );
    console.log(`analytics top-10: best live query ${analytics.base.toFixed(1)} ms, view ${analytics.opt.toFixed(2)} ms (same ten articles: ${liveTop.join() === viewTop.join()})`);

    // Search: ranked full text with snippets, the same statement with and without its GIN index
    // (dropped in a rolled-back transaction), per class of term; both must return the same rows.
    const results = new Map<string, unknown[]>();
    const ranked = (terms: string[], variant: string) => async () => {
      for (const term of terms) {
        const { rows } = await c.query(searchArticles.text, [term, 10, 0]);
        const key = `${variant}:${term}`;
        if (!results.has(key)) results.set(key, rows);
      }
    };
    const searchOf = (terms: string[]) =>
      compare(inRolledBackTx(c, 'DROP INDEX articles_search_idx', ranked(terms, 'seq')), inRolledBackTx(c, null, ranked(terms, 'gin')));
    const common = await searchOf(COMMON_TERMS);
    const rare = await searchOf(TAIL_TERMS);
    for (const term of [...COMMON_TERMS, ...TAIL_TERMS]) {
      assert.deepEqual(results.get(`seq:${term}`), results.get(`gin:${term}`), `search ${JSON.stringify(term)}: the two plans returned different rows`);
      const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM articles WHERE search @@ websearch_to_tsquery('english', $1)", [term]);
      console.log(`  term ${JSON.stringify(term)}: ${rows[0]!.n} matching articles, the same ${results.get(`gin:${term}`)!.length} hits both ways`);
    }
    console.log(`search, 3 common terms: without GIN ${common.base.toFixed(1)} ms vs with ${common.opt.toFixed(1)} ms; 3 rare terms: ${rare.base.toFixed(1)} ms vs ${rare.opt.toFixed(1)} ms`);
    const search = { base: common.base + rare.base, opt: common.opt + rare.opt };

    // Feed: 20 keyset pages via the covering partial index vs the next-best index (the same keys,
    // plain), each variant with the other index dropped in a rolled-back transaction.
    const pages: Record<string, string[]> = {};
    const feedVia = (drop: string, variant: string) =>
      inRolledBackTx(c, `DROP INDEX ${quoteIdent(drop)}`, async () => {
        const ids = await feedPages(c, FEED_PAGES);
        pages[variant] ??= ids;
      });
    const plans: Record<string, string[]> = {};
    for (const [drop, variant] of [['articles_feed_idx', 'plain'], ['bench_feed_plain_idx', 'covering']] as const) {
      await c.query('BEGIN');
      await c.query(`DROP INDEX ${quoteIdent(drop)}`);
      plans[variant] = await planIndexes(c, feedNextPage.text, [20, String(Date.now() * 1000), 1]);
      await c.query('ROLLBACK');
    }
    const feed = await compare(feedVia('articles_feed_idx', 'plain'), feedVia('bench_feed_plain_idx', 'covering'));
    assert.deepEqual(pages.plain, pages.covering, 'feed: the two indexes returned different pages');
    console.log(
      `feed ${FEED_PAGES} pages (${pages.covering!.length} articles): plain index ${feed.base.toFixed(2)} ms (${plans.plain!.join(', ')}) vs covering partial index ${feed.opt.toFixed(2)} ms (${plans.covering!.join(', ')})`,
    );

    const ret = await retention(c);
    const r = (x: { base: number; opt: number }): number => Number((x.base / x.opt).toFixed(2));
    return {
      analytics_ratio: r(analytics),
      search_ratio: r(search),
      feed_ratio: r(feed),
      ...ret,
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
