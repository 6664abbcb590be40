// The feed and search filtered by metadata containment and by language: the product's own named
// queries use articles_metadata_idx (jsonb_path_ops GIN) and articles_lang_feed_idx (B-tree on
// metadata->>'lang', published_at, id of published rows), shown by EXPLAIN on a seeded, analyzed
// database, custom and generic plans alike; the results are exactly the rows the filter names; the unfiltered feed keeps
// its covering partial index.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { seed } from '../../src/ops/seed/seed.ts';
import { feedFirstPage, langFeedFirstPage, langFeedNextPage, metaFeedFirstPage, metaFeedNextPage } from '../../src/content/feed/queries.ts';
import { feedPage, type FeedOptions } from '../../src/content/feed/repository.ts';
import { parseMetaFilter } from '../../src/content/feed/filter.ts';
import { searchArticlesByLang, searchArticlesByMeta } from '../../src/content/search/queries.ts';
import { search } from '../../src/content/search/repository.ts';
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

await seed(cluster, { scale: 3, seed: 7, now: new Date() });
// A small series (selective, like a real one), one of its articles still a draft; its bodies use
// a word many seeded articles use too, so the search filter is the selective part.
const author = (await c.query<{ id: string }>('SELECT id FROM users ORDER BY id LIMIT 1')).rows[0]!.id;
for (let i = 0; i < 13; i++) {
  const status = i === 12 ? 'draft' : 'published';
  await c.query(
    `INSERT INTO articles (author_id, title, slug, body, status, metadata, published_at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, CASE WHEN $5 = 'published' THEN now() - $7::int * interval '1 hour' END)`,
    [author, `Internals part ${i}`, `internals-part-${i}`, 'Notes on deadlocks and the lock manager.', status, JSON.stringify({ series: 'pg-internals', lang: i % 2 ? 'en' : 'de', part: i }), i],
  );
}
// VACUUM sets the visibility map (index-only scans need it); ANALYZE gives stable estimates.
await c.query('VACUUM ANALYZE articles');

const SERIES = { series: 'pg-internals' };
const RARE_LANG = 'ja';
/** The index that serves every read by language (feed and search). */
const LANG_FEED_INDEX = 'articles_lang_feed_idx';

/** Ids of published articles matching `where` ($1), newest first: what a filter must return. */
async function expected(where: string, value: string): Promise<number[]> {
  const { rows } = await c.query<{ id: string }>(`SELECT id FROM articles WHERE status = 'published' AND ${where} ORDER BY published_at DESC, id DESC`, [value]);
  return rows.map((r) => Number(r.id));
}

/** Every page of a filtered feed, followed by cursor. */
async function allPages(opts: FeedOptions): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  do {
    const page = await feedPage(cluster, { ...opts, limit: 5, cursor });
    ids.push(...page.items.map((it) => it.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

/** A next-page cursor's bound for EXPLAIN: a day ago, in microseconds, with a large id. */
const cursorParams = (): [string, string] => [String(Date.now() * 1000 - 86_400_000_000), '1000000000'];

test('the feed filtered by metadata containment uses the jsonb_path_ops GIN index, first and next pages', async () => {
  const meta = JSON.stringify(SERIES);
  for (const [text, params] of [[metaFeedFirstPage.text, [20, meta]], [metaFeedNextPage.text, [20, ...cursorParams(), meta]]] as const) {
    const plan = await explain(c, text, [...params]);
    assert.ok(usesIndex(plan, 'articles_metadata_idx').length > 0, summary(plan));
  }
  const ids = await allPages({ meta: SERIES });
  assert.equal(ids.length, 12, 'the twelve published parts, not the draft');
  assert.deepEqual(ids, await expected('metadata @> $1::jsonb', meta));
});

test("the feed filtered by language walks only its language's rows, in order, first and next pages", async () => {
  for (const lang of [RARE_LANG, 'en']) {
    for (const [text, params] of [[langFeedFirstPage.text, [20, lang]], [langFeedNextPage.text, [20, ...cursorParams(), lang]]] as const) {
      const plan = await explain(c, text, [...params], true);
      const scans = usesIndex(plan, LANG_FEED_INDEX);
      assert.equal(scans[0]?.['Node Type'], 'Index Scan', `${lang}: ${summary(plan)}`);
      assert.equal((scans[0] as { 'Rows Removed by Filter'?: number } | undefined)?.['Rows Removed by Filter'] ?? 0, 0, `${lang}: no row of another language is read`);
      assert.equal(planNodes(plan).filter((n) => n['Node Type'] === 'Sort').length, 0, `${lang}: the index gives the order`);
    }
  }
  const ids = await allPages({ lang: RARE_LANG });
  assert.ok(ids.length > 10, `seeded ${RARE_LANG} articles: ${ids.length}`);
  assert.deepEqual(ids, await expected("metadata->>'lang' = $1", RARE_LANG));
});

test('language and metadata together: the language joins the containment', async () => {
  const ids = await allPages({ meta: SERIES, lang: 'de' });
  assert.equal(ids.length, 6);
  assert.deepEqual(ids, await expected('metadata @> $1::jsonb', JSON.stringify({ ...SERIES, lang: 'de' })));
});

test('the unfiltered feed is still an index-only scan of the covering partial index', async () => {
  const plan = await explain(c, feedFirstPage.text, [20], true);
  const scans = usesIndex(plan, 'articles_feed_idx');
  assert.equal(scans[0]?.['Node Type'], 'Index Only Scan', summary(plan));
});

test('search filtered by metadata or language uses the JSONB indexes and returns only matching hits', async () => {
  const meta = JSON.stringify(SERIES);
  const byMeta = await explain(c, searchArticlesByMeta.text, ['deadlocks', 10, 0, meta]);
  assert.ok(usesIndex(byMeta, 'articles_metadata_idx').length > 0, summary(byMeta));
  const byLang = await explain(c, searchArticlesByLang.text, ['deadlocks', 10, 0, RARE_LANG]);
  assert.ok(usesIndex(byLang, LANG_FEED_INDEX).length > 0, summary(byLang));

  const hits = await search(cluster, 'deadlocks', 50, 0, { meta: SERIES });
  assert.deepEqual(hits.map((h) => h.id).sort((a, b) => a - b), (await expected("metadata @> $1::jsonb AND search @@ websearch_to_tsquery('english', 'deadlocks')", meta)).sort((a, b) => a - b));
  assert.equal(hits.length, 12);
  const jaHits = await search(cluster, 'deadlocks', 100, 0, { lang: RARE_LANG });
  const jaExpected = await expected("metadata->>'lang' = $1 AND search @@ websearch_to_tsquery('english', 'deadlocks')", RARE_LANG);
  assert.deepEqual(jaHits.map((h) => h.id).sort((a, b) => a - b), jaExpected.sort((a, b) => a - b));
  const all = await search(cluster, 'deadlocks', 100, 0);
  assert.ok(all.length > jaHits.length, 'the filter narrows the hits');
});

test('bad filters are PGP_VALIDATION naming the field, before any query', async () => {
  const rejects = async (fn: () => Promise<unknown>, field: string, message: RegExp): Promise<void> => {
    await assert.rejects(fn, (e: unknown) => isPgpressError(e) && e.code === 'PGP_VALIDATION' && (e.details as { field?: string } | undefined)?.field === field && message.test(e.message));
  };
  await rejects(() => feedPage(cluster, { meta: [] as unknown as Record<string, unknown> }), 'meta', /JSON object/);
  await rejects(() => feedPage(cluster, { meta: {} }), 'meta', /at least one key/);
  await rejects(() => feedPage(cluster, { meta: { k: 'x'.repeat(2000) } }), 'meta', /characters/);
  await rejects(() => feedPage(cluster, { lang: 'English!' }), 'lang', /language tag/);
  await rejects(() => feedPage(cluster, { meta: { lang: 'en' }, lang: 'de' }), 'lang', /contradicts/);
  await rejects(() => feedPage(cluster, { meta: SERIES, tag: 'x' }), 'meta', /one of/);
  await rejects(() => search(cluster, 'deadlocks', 10, 0, { lang: '' }), 'lang', /language tag/);
  assert.throws(() => parseMetaFilter('{"series": '), (e: unknown) => isPgpressError(e) && e.code === 'PGP_VALIDATION' && /not valid JSON/.test(e.message));
  assert.throws(() => parseMetaFilter('"series"'), (e: unknown) => isPgpressError(e) && /JSON object/.test(e.message));
  assert.deepEqual(parseMetaFilter('{"series":"x","n":1}'), { series: 'x', n: 1 });
});

test('prepared as the Cluster prepares them, the filtered statements use their indexes in the custom and in the generic plan', async () => {
  // pg's named statements are server-side prepared statements: after five executions PostgreSQL may
  // switch to a generic plan, made without the values. plan_cache_mode forces each kind in turn.
  const meta = JSON.stringify(SERIES);
  const cases = [
    [metaFeedFirstPage, [20, meta], 'articles_metadata_idx'],
    [metaFeedNextPage, [20, ...cursorParams(), meta], 'articles_metadata_idx'],
    [langFeedFirstPage, [20, RARE_LANG], LANG_FEED_INDEX],
    [langFeedNextPage, [20, ...cursorParams(), RARE_LANG], LANG_FEED_INDEX],
    [searchArticlesByMeta, ['deadlocks', 10, 0, meta], 'articles_metadata_idx'],
    [searchArticlesByLang, ['deadlocks', 10, 0, RARE_LANG], LANG_FEED_INDEX],
  ] as const;
  for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
    const p = new pg.Client({ connectionString: url });
    await p.connect();
    try {
      await p.query(`SET plan_cache_mode = ${mode}`);
      for (const [q, params, index] of cases) {
        await p.query({ name: q.name, text: q.text, values: [...params] });
        // EXECUTE takes no bind parameters: the test's constants go in as quoted literals.
        const args = params.map((v) => p.escapeLiteral(String(v))).join(', ');
        const { rows } = await p.query<{ 'QUERY PLAN': { Plan: Parameters<typeof summary>[0] }[] }>(`EXPLAIN (FORMAT JSON) EXECUTE ${p.escapeIdentifier(q.name)}(${args})`);
        const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
        assert.ok(usesIndex(plan, index).length > 0, `${mode} ${q.name}: ${summary(plan)}`);
      }
    } finally {
      await p.end();
    }
  }
});
