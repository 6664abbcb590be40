// Ranked search answers exactly as ranking every match would (ts_rank_cd DESC, id DESC), while
// reading a fraction of what the full ranking reads: pgpress_search_top (migration 0108) against the
// full ranking on a seeded database, for common, mid and rare terms, OR and AND queries, the edge
// cases of its tiers (many occurrences, ties, capped positions), filters and deep pages.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Cluster } from '../../src/db/cluster.ts';
import { seed } from '../../src/ops/seed/seed.ts';
import { TOPICS, WORDS, tailVocabulary } from '../../src/ops/seed/words.ts';
import { BODY_SLICE, searchArticles, searchRanked, searchRankedWord } from '../../src/content/search/queries.ts';
import { search } from '../../src/content/search/repository.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const { url } = await testDatabase();
const cluster = new Cluster({ url, max: 2, statementTimeoutMs: 0 });
const c = new pg.Client({ connectionString: url });
c.on('error', () => undefined); // the harness drops the database WITH (FORCE) after the file
await c.connect();
after(async () => {
  await c.end();
  await cluster.close();
});

await seed(cluster, { scale: 2, seed: 11 });
// Articles for the tiers' edge cases: a lexeme repeated past the tiers (rank 13), nine times (its
// rank a real just above 3.6), in the title and body, tied, one past the 16383-position cap, and a
// draft that must never show.
const author = (await c.query<{ id: string }>('SELECT id FROM users ORDER BY id LIMIT 1')).rows[0]!.id;
const edge: [string, string, string][] = [
  ['Wombat notes', 'wombat '.repeat(30), 'published'],
  ['Nine in the body', 'wombat '.repeat(9), 'published'],
  ['Wombat and wombat', 'a wombat here and a wombat there', 'published'],
  ['Plain notes', 'one wombat', 'published'],
  ['Plain notes again', 'one wombat', 'published'],
  ['Long notes', `${'filler '.repeat(17000)} wombat wombat quokka`, 'published'],
  ['Long wombat notes', `wombat ${'filler '.repeat(17000)} wombat`, 'published'],
  ['Wombat draft', 'wombat '.repeat(30), 'draft'],
  // Snippets (numbat): a match deep in a long body and another far from it; the literal text first in
  // another word ('numbatology' stems to 'numbatolog'); a match in the title only; a short body; markup.
  ['Deep numbat', `${'synchronisation '.repeat(40)}numbat ${'synchronisation '.repeat(40)}numbat ${'synchronisation '.repeat(10)}`, 'published'],
  ['Misleading text', `numbatology ${'synchronisation '.repeat(40)}numbat ${'synchronisation '.repeat(10)}`, 'published'],
  ['Numbat in the title', `opening words here ${'synchronisation '.repeat(40)}`, 'published'],
  ['Short', 'a numbat <b>bold</b> & more', 'published'],
  // A long body whose only match is 32,000 characters in: the database sends a slice around it.
  ['Far numbat', `${'synchronisation '.repeat(2000)}numbat ${'synchronisation '.repeat(10)}`, 'published'],
  // Forms of the word the parser splits or keeps whole: capitals, plural, possessive, hyphen, underscore,
  // digits, a host, an email, an accent; and 'numbatology', another word.
  ['Numbat forms', "Numbats and a numbat met numbatology fans; the NUMBAT's numbat-like numbats, numbat_x x_numbat numbat2 x.numbat.com numbat@x.org numbat\u00e9 pre-numbat (numbat) numbat/numbat numbat...", 'published'],
];
for (const [i, [title, body, status]] of edge.entries()) {
  await c.query(
    "INSERT INTO articles (author_id, title, slug, body, status, published_at) VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'draft' THEN NULL ELSE now() END)",
    [author, title, `edge-${i}`, body, status],
  );
}
await c.query('VACUUM ANALYZE articles');

const FULL = `SELECT a.id::int, ts_rank_cd(a.search, q) AS rank FROM articles a, websearch_to_tsquery('english', $1) AS q
  WHERE a.search @@ q AND a.status = 'published' AND ($3::jsonb IS NULL OR a.metadata @> $3) AND ($4::text IS NULL OR (a.metadata ->> 'lang') = $4)
  ORDER BY rank DESC, a.id DESC LIMIT $2`;
const TOP = "SELECT id::int, rank FROM pgpress_search_top(websearch_to_tsquery('english', $1), $2, $3::jsonb, $4::text)";

const tail = tailVocabulary(5_000);
const QUERIES = [
  ...WORDS.slice(16, 60), // the commonest words that are not stop words
  ...TOPICS.filter((t) => !t.includes(' ')),
  ...[0, 3, 10, 30, 100, 300, 1000, 3000].map((i) => tail[i]!),
  'wombat', 'quokka', 'filler',
  'deadlocks or sharding', 'vacuum or wombat', 'table or query or index', '(vacuum or replication) wombat',
  'checkpoint fsync', 'query planner', '"write-ahead log"', 'vacuum -autovacuum', 'the', 'zzzunknown',
];

/** Every query at each size and filter: the same ids, ranks and order as the full ranking. */
async function compareAll(sizes: number[], filters: [string | null, string | null][]): Promise<number> {
  let compared = 0;
  for (const [meta, lang] of filters) {
    for (const n of sizes) {
      for (const q of QUERIES) {
        const params = [q, n, meta, lang];
        const full = (await c.query(FULL, params)).rows;
        const top = (await c.query(TOP, params)).rows;
        assert.deepEqual(top, full, `${JSON.stringify(q)} n=${n} meta=${meta} lang=${lang}`);
        compared++;
      }
    }
  }
  return compared;
}

test('the top n equal the full ranking for common, rare, OR, AND, phrase and negated queries', async () => {
  const compared = await compareAll([1, 10, 200], [[null, null]]);
  assert.equal(compared, QUERIES.length * 3);
});

test('filtered by metadata or language, the top n equal the filtered full ranking', async () => {
  // Filters keeping 1000 articles or more walk the tiers; smaller ones rank their matches.
  const kept = (await c.query<{ en: number; editor: number }>(
    "SELECT count(*) FILTER (WHERE metadata ->> 'lang' = 'en')::int AS en, count(*) FILTER (WHERE metadata @> '{\"source\":\"editor\"}')::int AS editor FROM articles WHERE status = 'published'",
  )).rows[0]!;
  assert.ok(kept.en >= 1000 && kept.editor >= 1000, JSON.stringify(kept));
  await compareAll([25], [['{"source":"editor"}', null], [null, 'en'], ['{"source":"import"}', null], [null, 'ja'], ['{"source":"editor"}', 'de']]);
});

test('the edge articles rank as the full ranking ranks them: past the tiers, a real above 3.6, ties by id, past the position cap', async () => {
  const top = (await c.query<{ id: number; rank: number }>(TOP, ['wombat', 8, null, null])).rows;
  const full = (await c.query<{ id: number; rank: number }>(FULL, ['wombat', 8, null, null])).rows;
  assert.deepEqual(top, full);
  const titles = (await c.query<{ id: number; title: string }>('SELECT id::int, title FROM articles WHERE slug LIKE $1', ['edge-%'])).rows;
  const byId = new Map(titles.map((t) => [t.id, t.title]));
  assert.deepEqual(top.slice(0, 3).map((r) => byId.get(r.id)), ['Wombat notes', 'Nine in the body', 'Wombat and wombat']);
  assert.ok(top[1]!.rank > 3.6, `nine body occurrences rank a real above 3.6 (${top[1]!.rank})`);
  const tokens = async (title: string): Promise<string[]> =>
    (await c.query<{ t: string[] }>('SELECT pgpress_search_tokens(search) AS t FROM articles WHERE title = $1', [title])).rows[0]!.t;
  assert.ok((await tokens('Wombat notes')).includes('~:wombat'));
  assert.ok((await tokens('Nine in the body')).includes('~:wombat'));
  assert.ok(!(await tokens('Plain notes')).some((t) => t.endsWith(':wombat')), 'one body occurrence (0.4): no token');
  assert.ok((await tokens('Long notes')).includes('~long'));
  const longTiered = await tokens('Long wombat notes');
  assert.ok(longTiered.includes('~long') && longTiered.some((t) => /^\d+:wombat$/.test(t)), longTiered.join());
  const all = (await c.query<{ id: number }>(TOP, ['wombat', 50, null, null])).rows.map((r) => r.id);
  assert.equal(new Set(all).size, all.length, `no article twice: ${all.join()}`);
});

test('search() pages equal the full ranking statement, snippets included', async () => {
  for (const q of ['vacuum', 'table', tail[30]!, 'wombat', 'deadlocks or sharding']) {
    for (const [limit, offset] of [[10, 0], [10, 10], [7, 30]] as const) {
      const full = (await c.query<{ id: string; rank: number; snippet: string }>(searchArticles.text, [q, limit, offset])).rows;
      const hits = await search(cluster, q, limit, offset);
      assert.deepEqual(hits.map((h) => [h.id, h.rank]), full.map((r) => [Number(r.id), r.rank]), `${q} ${limit}/${offset}`);
      assert.equal(hits.length === 0 || hits[0]!.snippet.includes('<mark>'), true, `${q}: snippets mark the matches`);
    }
  }
});

/** Shared buffers a statement touched (hit + read), nested statements included. */
async function buffers(text: string, params: unknown[]): Promise<number> {
  const { rows } = await c.query<{ 'QUERY PLAN': { Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }[] }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`,
    params,
  );
  const p = rows[0]!['QUERY PLAN'][0]!.Plan;
  return p['Shared Hit Blocks'] + p['Shared Read Blocks'];
}

test('the product\'s page for a common term reads a fraction of the blocks the full ranking reads', async () => {
  // Buffers, not time: the same on a loaded machine. The full ranking reads every match.
  for (const q of ['table', 'vacuum', 'deadlocks']) {
    const matches = (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM articles WHERE search @@ websearch_to_tsquery('english', $1)", [q])).rows[0]!.n;
    const full = await buffers(searchArticles.text, [q, 10, 0]);
    const ranked = await buffers(searchRanked.text, [q, 10, 0, null, null]);
    assert.ok(ranked * 4 < full, `${q} (${matches} matches): ${ranked} blocks vs ${full} for the full ranking`);
  }
});

test('snippets come from a window of the body around the match, or the whole body when the window shows none', async () => {
  const bySlugTitle = async (title: string): Promise<string> => {
    const hits = await search(cluster, 'numbat', 20, 0);
    const hit = hits.find((h) => h.title === title);
    assert.ok(hit, `${title} among ${hits.map((h) => h.title).join(', ')}`);
    return hit.snippet;
  };
  const visible = (html: string): string => html.replace(/<\/?mark>/g, '');
  // A match 640 characters in, another 640 further: one window of at most 240 characters around the
  // first (a whole-body headline showed both fragments, 2 × 20 words of 16 characters).
  const deep = await bySlugTitle('Deep numbat');
  assert.match(deep, /<mark>numbat<\/mark>/);
  assert.ok(visible(deep).length <= 240, `${visible(deep).length} characters: ${deep}`);
  const words = visible(deep).split(/\s+/).filter((w) => w !== '' && w !== '...');
  assert.ok(words.every((w) => w === 'synchronisation' || w === 'numbat'), `whole words only: ${deep}`);
  // 'numbatology' first: the window is around the first word that is a match.
  const misleading = await bySlugTitle('Misleading text');
  assert.match(misleading, /^synchronisation .*<mark>numbat<\/mark>/);
  assert.ok(!misleading.includes('numbatology'), misleading);
  // The title alone matches: the body's beginning, nothing marked.
  const title = await bySlugTitle('Numbat in the title');
  assert.ok(title.startsWith('opening words here') && !title.includes('<mark>'), title);
  const far = await bySlugTitle('Far numbat');
  assert.match(far, /^synchronisation .*<mark>numbat<\/mark> synchronisation/);
  assert.ok(visible(far).length <= 240, far);
  const { rows: slices } = await c.query<{ body: string }>(searchRankedWord.text, ['numbat', 30, 0, null, null]);
  assert.ok(slices.length > 5 && slices.every((r) => r.body.length <= BODY_SLICE + 1), 'the database sends a slice of each body');
  // A short body is shown whole, escaped, the match marked.
  assert.equal(await bySlugTitle('Short'), 'a <mark>numbat</mark> &lt;b&gt;bold&lt;/b&gt; &amp; more');
  // A query of more than one word: ts_headline's fragments of the window (it leaves out tags).
  const both = (await search(cluster, 'numbat bold', 20, 0)).find((h) => h.title === 'Short');
  assert.equal(both?.snippet, '<mark>numbat</mark>  <mark>bold</mark>  &amp; more');
});

test('a search of one word marks in its snippets exactly the words ts_headline marks in the same text', async () => {
  // The snippet's own text, less its marks, given to ts_headline (HighlightAll): the same marks, for
  // every hit of the page. The snippets of a word are made by the repository (wordSnippet.ts).
  const UNESCAPE: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '<mark>': '\u0001', '</mark>': '\u0002' };
  for (const q of ['numbat', 'numbats', 'vacuum', 'table', 'indexes', 'wombat', 'synchronisation', tail[30]!]) {
    const hits = await search(cluster, q, 30, 0);
    assert.ok(hits.length > 0, q);
    for (const { snippet } of hits) {
      const marked = snippet.replace(/&amp;|&lt;|&gt;|&quot;|&#39;|<\/?mark>/g, (e) => UNESCAPE[e]!);
      const { rows: [h] } = await c.query<{ h: string }>(
        "SELECT ts_headline('english', $1, websearch_to_tsquery('english', $2), 'HighlightAll=true, StartSel=' || chr(1) || ', StopSel=' || chr(2)) AS h",
        [marked.replaceAll('\u0001', '').replaceAll('\u0002', ''), q],
      );
      assert.equal(marked, h!.h, q);
    }
  }
  const forms = (await search(cluster, 'numbat', 30, 0)).find((h) => h.title === 'Numbat forms');
  assert.ok(forms, 'Numbat forms found');
  assert.equal(
    forms.snippet,
    '<mark>Numbats</mark> and a <mark>numbat</mark> met numbatology fans; the <mark>NUMBAT</mark>&#39;s <mark>numbat</mark>-like <mark>numbats</mark>, ' +
      '<mark>numbat</mark>_x x_<mark>numbat</mark> numbat2 x.numbat.com numbat@x.org numbat\u00e9 pre-<mark>numbat</mark> (<mark>numbat</mark>) numbat/numbat <mark>numbat</mark>...',
  );
});

test('the terms table follows every write: insert, update of the body, publish, unpublish, delete (migration 0160)', async () => {
  const entries = async (id: string): Promise<string[]> =>
    (await c.query<{ e: string }>('SELECT lexeme || \':\' || rank AS e FROM pgpress_article_search_terms WHERE article_id = $1 ORDER BY 1', [id])).rows.map((r) => r.e);
  const expected = async (id: string): Promise<string[]> =>
    (await c.query<{ e: string }>('SELECT o.lexeme || \':\' || o.rank AS e FROM articles a, pgpress_search_terms(a.search) o WHERE a.id = $1 ORDER BY 1', [id])).rows.map((r) => r.e);
  const same = async (step: string): Promise<void> => {
    for (const n of [1, 5, 40]) {
      assert.deepEqual((await c.query(TOP, ['bilby', n, null, null])).rows, (await c.query(FULL, ['bilby', n, null, null])).rows, `${step}: bilby n=${n}`);
    }
  };
  const { rows: [a] } = await c.query<{ id: string }>(
    "INSERT INTO articles (author_id, title, slug, body, status) VALUES ($1, 'Draft notes', 'bilby-terms', $2, 'draft') RETURNING id",
    [author, 'bilby '.repeat(12)],
  );
  const id = a!.id;
  assert.deepEqual(await entries(id), [], 'a draft has no entries');
  await same('draft');
  await c.query("UPDATE articles SET status = 'published', published_at = now() WHERE id = $1", [id]);
  assert.ok((await entries(id)).some((e) => e.startsWith('bilbi:4.8')), (await entries(id)).join());
  assert.deepEqual(await entries(id), await expected(id));
  assert.equal((await c.query<{ id: number }>(TOP, ['bilby', 1, null, null])).rows[0]!.id, Number(id), 'published: first for its lexeme');
  await same('published');
  await c.query("UPDATE articles SET body = 'one bilby and many quolls quolls quolls' WHERE id = $1", [id]);
  assert.deepEqual(await entries(id), await expected(id));
  assert.ok(!(await entries(id)).some((e) => e.startsWith('bilbi:')) && (await entries(id)).some((e) => e.startsWith('quoll:')), (await entries(id)).join());
  await same('body updated');
  await c.query("UPDATE articles SET status = 'archived' WHERE id = $1", [id]);
  assert.deepEqual(await entries(id), [], 'archived: no entries');
  await same('archived');
  await c.query("UPDATE articles SET status = 'published' WHERE id = $1", [id]);
  assert.deepEqual(await entries(id), await expected(id));
  await c.query('DELETE FROM articles WHERE id = $1', [id]);
  assert.deepEqual(await entries(id), [], 'deleted: no entries');
  await same('deleted');
  const { rows: [stale] } = await c.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pgpress_article_search_terms t WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = t.article_id AND a.status = 'published')",
  );
  assert.equal(stale!.n, 0, 'no entry for an article that is not published');
});

test('a one-lexeme page comes from the terms table, and an entry the articles deny sends the query to the full ranking', async () => {
  await c.query('BEGIN');
  try {
    const full = (await c.query<{ id: number; rank: number }>(FULL, ['vacuum', 10, null, null])).rows;
    // Without the first article's entry the table's page differs: the page is read from the table.
    await c.query("DELETE FROM pgpress_article_search_terms WHERE lexeme = 'vacuum' AND article_id = $1", [full[0]!.id]);
    const missing = (await c.query<{ id: number }>(TOP, ['vacuum', 10, null, null])).rows.map((r) => r.id);
    assert.ok(!missing.includes(full[0]!.id), `without its entry ${full[0]!.id} is not on the page: ${missing.join()}`);
    // An entry whose rank the article denies: the page's check sends the query to the full ranking.
    await c.query("INSERT INTO pgpress_article_search_terms (lexeme, rank, article_id) VALUES ('vacuum', 99, $1)", [full[5]!.id]);
    assert.deepEqual((await c.query(TOP, ['vacuum', 10, null, null])).rows, full);
  } finally {
    await c.query('ROLLBACK');
  }
});
