// `npm run bench -- metaFilters`: what the JSONB indexes buy the filtered feed and search. Each case
// runs the product's named statement, prepared as the Cluster sends it, on two copies of the seeded
// articles: one with every index, one without the index under test — where the planner takes its
// best plan without it (walking the feed index, or the text index alone). Variants interleave
// A B, B A on a seeded database (BENCH_META_SCALE, default 30: 30k articles); the ratio is the
// median of the per-round ratios without ÷ with.
import pg from 'pg';
import { Cluster } from '../src/db/cluster.ts';
import { quoteIdent, type NamedQuery } from '../src/db/sql.ts';
import { seed, seedCounts } from '../src/ops/seed/seed.ts';
import { langFeedFirstPage, langFeedNextPage, metaFeedFirstPage, metaFeedNextPage } from '../src/content/feed/queries.ts';
import { searchArticlesByLang, searchArticlesByMeta } from '../src/content/search/queries.ts';
import { benchDatabase } from './benchDatabase.ts';
import { interleaved, median, medianRatio } from './measure.ts';

const SCALE = Number(process.env.BENCH_META_SCALE ?? 30);
const ROUNDS = Number(process.env.BENCH_META_ROUNDS ?? 9);
/** Pages of the feed walked per run (keyset: first page, then next pages by cursor). */
const PAGES = 5;
/** One article in SERIES_EVERY of those about TERM joins the series: a selective filter, like a real series. */
const SERIES_EVERY = 50;
const SERIES = JSON.stringify({ series: 'pg-internals' });
/** The seed's rarer languages: ja (2 % of articles) and de (8 %). */
const LANGS = ['ja', 'de'] as const;
/** A subject word in about a tenth of the articles: the filter is the selective part. */
const TERM = 'deadlocks';

type Row = { id: string; published_us: string };

/** Walks PAGES pages of a filtered feed; returns the ids it read. */
async function feedPages(c: pg.Client, first: NamedQuery, next: NamedQuery, value: string): Promise<number> {
  let rows = (await c.query<Row>({ name: first.name, text: first.text, values: [20, value] })).rows;
  let n = rows.length;
  for (let i = 1; i < PAGES && rows.length === 20; i++) {
    const last = rows.at(-1)!;
    rows = (await c.query<Row>({ name: next.name, text: next.text, values: [20, last.published_us, last.id, value] })).rows;
    n += rows.length;
  }
  return n;
}

/** A one-line plan of a case's prepared statement as it runs on `c` now (after the measured
 *  rounds, so past the plan cache's choice between custom and generic plans). */
async function planOf(c: pg.Client, q: NamedQuery, values: readonly unknown[]): Promise<string> {
  await c.query({ name: q.name, text: q.text, values: [...values] });
  // EXECUTE takes no bind parameters: the bench's constants go in as quoted literals.
  const args = values.map((v) => c.escapeLiteral(String(v))).join(', ');
  const { rows } = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${c.escapeIdentifier(q.name)}(${args})`);
  return rows.map((r) => r['QUERY PLAN'].trim()).filter((l) => /Scan|Sort|BitmapAnd/.test(l)).map((l) => l.replace(/^->\s*/, '').replace(/\s+\(cost.*$/, '')).join(' > ');
}

/** A copy of articles in `schema` with every index of the original but `without`: the same rows,
 *  freshly laid out, so copies compare fairly with each other. Extended statistics on the language
 *  expression keep its estimates when the copy lacks the index whose statistics ANALYZE would
 *  otherwise have kept. A client with `search_path = schema, public` runs the product's statements
 *  unchanged against the copy, each client keeping its own prepared plans. */
async function articlesCopy(c: pg.Client, url: string, schema: string, without: string | null): Promise<pg.Client> {
  const s = quoteIdent(schema);
  await c.query(`CREATE SCHEMA ${s}`);
  await c.query(`CREATE TABLE ${s}.articles (LIKE public.articles INCLUDING ALL EXCLUDING INDEXES)`);
  const cols = (await c.query<{ cols: string }>(
    "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS cols FROM pg_attribute WHERE attrelid = 'public.articles'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''",
  )).rows[0]!.cols;
  await c.query(`INSERT INTO ${s}.articles (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM public.articles ORDER BY id`);
  const defs = await c.query<{ name: string; def: string }>(
    "SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = 'public.articles'::regclass",
  );
  for (const d of defs.rows) if (d.name !== without) await c.query(d.def.replace(' ON public.articles ', ` ON ${s}.articles `));
  await c.query(`CREATE STATISTICS ${s}.lang_stats ON (metadata ->> 'lang') FROM ${s}.articles`);
  await c.query(`VACUUM ANALYZE ${s}.articles`);
  const k = new pg.Client({ connectionString: url, options: `-c search_path=${schema},public` });
  k.on('error', () => undefined);
  await k.connect();
  return k;
}

interface Case {
  key: string;
  label: string;
  index: string;
  plan: [NamedQuery, unknown[]];
  run: (c: pg.Client) => Promise<number>;
}

/** The scenario. */
export async function metaFilters(): Promise<Record<string, number>> {
  const db = await benchDatabase();
  const cluster = new Cluster({ url: db.url, max: 2, statementTimeoutMs: 0 });
  const c = new pg.Client({ connectionString: db.url });
  c.on('error', () => undefined);
  await c.connect();
  const clients: pg.Client[] = [];
  try {
    const counts = seedCounts(SCALE);
    const t = performance.now();
    await seed(cluster, { scale: SCALE, seed: 1 });
    // The series is about TERM, so the filtered search has hits to rank.
    await c.query("UPDATE articles SET metadata = metadata || $1::jsonb WHERE id % $2 = 0 AND search @@ websearch_to_tsquery('english', $3)", [SERIES, SERIES_EVERY, TERM]);
    await c.query('VACUUM ANALYZE articles');
    console.log(`seeded ${counts.articles} articles in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const shares = (await c.query<{ published: number; series: number; ja: number; de: number }>(
      "SELECT count(*)::int AS published, count(*) FILTER (WHERE metadata @> $1::jsonb)::int AS series, count(*) FILTER (WHERE metadata->>'lang' = 'ja')::int AS ja, count(*) FILTER (WHERE metadata->>'lang' = 'de')::int AS de FROM articles WHERE status = 'published'",
      [SERIES],
    )).rows[0]!;
    console.log(`published ${shares.published}: series ${shares.series}, ja ${shares.ja}, de ${shares.de}`);

    const cases: Case[] = [
      { key: 'feed_meta', label: `feed meta ${SERIES}, ${PAGES} pages`, index: 'articles_metadata_idx', plan: [metaFeedFirstPage, [20, SERIES]], run: (k) => feedPages(k, metaFeedFirstPage, metaFeedNextPage, SERIES) },
      ...LANGS.map((lang): Case => ({ key: `feed_lang_${lang}`, label: `feed lang=${lang}, ${PAGES} pages`, index: 'articles_lang_feed_idx', plan: [langFeedFirstPage, [20, lang]], run: (k) => feedPages(k, langFeedFirstPage, langFeedNextPage, lang) })),
      {
        key: 'search_meta', label: `search "${TERM}" meta ${SERIES}`, index: 'articles_metadata_idx', plan: [searchArticlesByMeta, [TERM, 10, 0, SERIES]],
        run: async (k) => (await k.query({ name: searchArticlesByMeta.name, text: searchArticlesByMeta.text, values: [TERM, 10, 0, SERIES] })).rowCount ?? 0,
      },
      ...LANGS.map((lang): Case => ({
        key: `search_lang_${lang}`, label: `search "${TERM}" lang=${lang}`, index: 'articles_lang_feed_idx', plan: [searchArticlesByLang, [TERM, 10, 0, lang]],
        run: async (k) => (await k.query({ name: searchArticlesByLang.name, text: searchArticlesByLang.text, values: [TERM, 10, 0, lang] })).rowCount ?? 0,
      })),
    ];

    const out: Record<string, number> = {};
    const withAll = await articlesCopy(c, db.url, 'bench_all', null);
    const without: Record<string, pg.Client> = {
      articles_metadata_idx: await articlesCopy(c, db.url, 'bench_no_metadata_idx', 'articles_metadata_idx'),
      articles_lang_feed_idx: await articlesCopy(c, db.url, 'bench_no_lang_feed_idx', 'articles_lang_feed_idx'),
    };
    clients.push(withAll, ...Object.values(without));
    for (const k of cases) {
      const clientOf = { with: withAll, without: without[k.index]! };
      const rowsSeen: Record<'with' | 'without', number> = { with: 0, without: 0 };
      const runs = await interleaved(['without', 'with'] as const, ROUNDS, async (v) => {
        const t0 = performance.now();
        rowsSeen[v] = await k.run(clientOf[v]);
        return performance.now() - t0;
      });
      if (rowsSeen.with !== rowsSeen.without) throw new Error(`${k.label}: ${rowsSeen.with} rows with the index, ${rowsSeen.without} without`);
      const ratio = medianRatio(runs.without, runs.with);
      console.log(`${k.label} (${rowsSeen.with} rows): without ${k.index} ${median(runs.without).toFixed(2)} ms, with ${median(runs.with).toFixed(2)} ms → ${ratio.toFixed(1)}×`);
      console.log(`  with:    ${await planOf(clientOf.with, k.plan[0], k.plan[1])}`);
      console.log(`  without: ${await planOf(clientOf.without, k.plan[0], k.plan[1])}`);
      out[`${k.key}_ratio`] = Number(ratio.toFixed(1));
    }
    return { ...out, articles: counts.articles };
  } finally {
    for (const k of clients) await k.end();
    await c.end();
    await cluster.close();
    await db.drop();
  }
}
