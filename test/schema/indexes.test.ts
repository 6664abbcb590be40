// Each index of the content schema is proven used: EXPLAIN (FORMAT JSON) of the repositories'
// own named queries on a seeded, analyzed database.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { seed } from '../../src/ops/seed/seed.ts';
import { createMonthPartitions, monthOf, addMonths } from '../../src/ops/partitions/index.ts';
import { feedFirstPage, feedNextPage, langFeedFirstPage, metaFeedFirstPage } from '../../src/content/feed/queries.ts';
import { searchArticles, similarTitles } from '../../src/content/search/queries.ts';
import { search, findSimilarTitles } from '../../src/content/search/repository.ts';
import { feedPage } from '../../src/content/feed/repository.ts';
import { eventCountsInWindow } from '../../src/content/events/queries.ts';
import { testDatabase } from '../harness/testDatabase.ts';
import { explain, planNodes, summary, usesIndex } from '../harness/explain.ts';

const { url } = await testDatabase();
const cluster = new Cluster({ url, max: 2, statementTimeoutMs: 0 });
const c = new pg.Client({ connectionString: url });
c.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await c.connect();
after(async () => {
  await c.end();
  await cluster.close();
});

const now = new Date();
await seed(cluster, { scale: 3, seed: 7, now });
// A few articles with words nothing else uses, so the searches below are selective.
const author = (await c.query<{ id: string }>('SELECT id FROM users ORDER BY id LIMIT 1')).rows[0]!.id;
for (const [title, body] of <[string, string][]>[
  ['Zeppelin replication in practice', 'How the zeppelin cluster streams its write-ahead log to a standby.'],
  ['Tuning zeppelin vacuum', 'Autovacuum settings for the zeppelin fleet, and what the planner made of them.'],
  ['Quokka sharding notes', 'Sharding the quokka tables by tenant.'],
]) {
  await c.query("INSERT INTO articles (author_id, title, slug, body, status, published_at) VALUES ($1, $2, $3, $4, 'published', now())", [author, title, title.toLowerCase().replace(/ /g, '-'), body]);
}
// VACUUM sets the visibility map (index-only scans need it); ANALYZE gives stable estimates.
await c.query('VACUUM ANALYZE articles');
await c.query('ANALYZE article_events');

test('full-text search uses the GIN index on the tsvector, ranks and highlights', async () => {
  const plan = await explain(c, searchArticles.text, ['zeppelin -quokka', 10, 0]);
  assert.ok(usesIndex(plan, 'articles_search_idx').some((n) => n['Node Type'] === 'Bitmap Index Scan'), summary(plan));
  const hits = await search(cluster, 'zeppelin -quokka');
  assert.equal(hits.length, 2);
  assert.ok(hits[0]!.rank >= hits[1]!.rank);
  assert.match(hits[0]!.snippet, /<mark>zeppelin<\/mark>/i);
});

test('typo-tolerant title lookup uses the trigram index', async () => {
  const plan = await explain(c, similarTitles.text, ['Zepelin replicaton', 5]);
  assert.ok(usesIndex(plan, 'articles_title_trgm_idx').length > 0, summary(plan));
  const found = await findSimilarTitles(cluster, 'Zepelin replicaton');
  assert.equal(found[0]?.title, 'Zeppelin replication in practice');
});

test('the feed is an index-only scan of the covering partial index, on every page', async () => {
  for (const [text, params] of [[feedFirstPage.text, [20]], [feedNextPage.text, [20, String(Date.now() * 1000 - 86_400_000_000), '1000000']]] as const) {
    const plan = await explain(c, text, [...params], true);
    const scans = usesIndex(plan, 'articles_feed_idx');
    assert.equal(scans[0]?.['Node Type'], 'Index Only Scan', summary(plan));
    assert.equal(scans[0]?.['Heap Fetches'], 0, 'the visibility map spares every heap fetch');
  }
  // Keyset pages neither repeat nor skip.
  const seen = new Set<number>();
  let cursor: string | null = null;
  for (let i = 0; i < 3; i++) {
    const page = await feedPage(cluster, { limit: 25, cursor });
    for (const it of page.items) assert.ok(!seen.has(it.id), 'no article twice');
    page.items.forEach((it) => seen.add(it.id));
    cursor = page.nextCursor;
  }
  const expected = (await c.query<{ id: string }>("SELECT id FROM articles WHERE status = 'published' ORDER BY published_at DESC, id DESC LIMIT 75")).rows.map((r) => Number(r.id));
  assert.deepEqual([...seen], expected);
});

test("an author's published articles use the partial index", async () => {
  const text = "SELECT id, title FROM articles WHERE author_id = $1 AND status = 'published' ORDER BY published_at DESC LIMIT 10";
  // A typical author (not the most prolific one, whose articles are a good part of the feed).
  const typical = (await c.query<{ author_id: string }>("SELECT author_id FROM articles WHERE status = 'published' GROUP BY author_id ORDER BY count(*), author_id LIMIT 1")).rows[0]!.author_id;
  const plan = await explain(c, text, [typical]);
  assert.ok(usesIndex(plan, 'articles_author_published_idx').length > 0, summary(plan));
});

test('JSONB containment uses the jsonb_path_ops GIN index, the hot key its expression index (the feed\'s own statements; more in metaFilters.test.ts)', async () => {
  const contains = await explain(c, metaFeedFirstPage.text, [20, '{"lang":"ja","source":"import"}']);
  assert.ok(usesIndex(contains, 'articles_metadata_idx').length > 0, summary(contains));
  const byLang = await explain(c, langFeedFirstPage.text, [20, 'ja']);
  assert.ok(usesIndex(byLang, 'articles_lang_feed_idx').length > 0, summary(byLang));
});

test('a time-bounded events query touches only the partitions of its months', async () => {
  const month = monthOf(now);
  // A row far in the future waits in the default partition: the plan must not read it either.
  await createMonthPartitions(cluster, 'article_events', [addMonths(month, -1), month]);
  const art = (await c.query<{ id: string }>('SELECT id FROM articles LIMIT 1')).rows[0]!.id;
  await c.query("INSERT INTO article_events (article_id, kind, occurred_at) VALUES ($1, 'view', '2031-05-05T00:00:00Z')", [art]);
  const parked = await c.query("SELECT 1 FROM article_events_default WHERE occurred_at = '2031-05-05T00:00:00Z'");
  assert.equal(parked.rowCount, 1);
  const from = new Date(`${month}T00:00:00Z`);
  const to = new Date(`${addMonths(month, 1)}T00:00:00Z`);
  const plan = await explain(c, 'SELECT count(*) FROM article_events WHERE occurred_at >= $1 AND occurred_at < $2', [from, to]);
  const relations = new Set(planNodes(plan).map((n) => n['Relation Name']).filter(Boolean));
  assert.deepEqual([...relations], [`article_events_p${month.slice(0, 7).replace('-', '_')}`], summary(plan));
  const perArticle = await explain(c, eventCountsInWindow.text, [author, from, to]);
  const touched = new Set(planNodes(perArticle).map((n) => n['Relation Name']).filter(Boolean));
  assert.deepEqual([...touched], [`article_events_p${month.slice(0, 7).replace('-', '_')}`], summary(perArticle));
});
