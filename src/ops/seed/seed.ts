// The data generator (`pgpress seed --scale N`): users, articles, comments and engagement events
// with heavy-tailed popularity and real-looking text, loaded with COPY. Scale 1 is 100 users,
// 1,000 articles, 2,000 comments and 10,000 events; scale 100 gives 100k articles and 1M events.
import type { Cluster } from '../../db/cluster.ts';
import { quoteIdent, sql } from '../../db/sql.ts';
import { PgpressError, fromPgError } from '../../errors/index.ts';
import { emailIndex } from '../../security/blindIndex.ts';
import { seal } from '../../security/crypto.ts';
import { resolveKeyRing, type KeyRing } from '../../security/keyRing.ts';
import { createMonthPartitions } from '../partitions/index.ts';
import { backgroundLease } from '../lock.ts';
import { addMonths, monthOf, monthRange } from '../partitions/months.ts';
import { copyRows } from './copyRows.ts';
import { Random, Zipf } from './random.ts';
import { ADJECTIVES, COMMENT_OPENERS, LANGS, TITLE_PATTERNS, TOPICS, WORDS, tailVocabulary } from './words.ts';

/** Size of the invented-word tail (see tailVocabulary). */
export const TAIL_WORDS = 5_000;

/** How much to generate and how. */
export interface SeedOptions {
  scale: number;
  /** PRNG seed: the same seed gives the same data. */
  seed?: number;
  /** Events and articles spread over this many months before now (default 3). */
  monthsBack?: number;
  now?: Date;
  /** Seals users' emails, as the application does; unset: the data folder's keys, as createStore. */
  keys?: KeyRing;
  /** Where those generated keys live when `keys` is unset (default .pgpress). */
  dataDir?: string;
  onProgress?: (phase: SeedPhase, done: number, total: number) => void;
}

/** The loading phases, in order. */
export type SeedPhase = 'users' | 'articles' | 'comments' | 'events' | 'analyze';

/** Rows generated per table. */
export interface SeedCounts {
  users: number;
  articles: number;
  comments: number;
  events: number;
}

/** Rows per table at a scale. */
export function seedCounts(scale: number): SeedCounts {
  return { users: 100 * scale, articles: 1_000 * scale, comments: 2_000 * scale, events: 10_000 * scale };
}

// Ids are taken first, as createUser does: each email's ciphertext is bound to its row id. COPY
// writes explicit ids into the GENERATED ALWAYS column without moving the sequence; nextval keeps it ahead.
const nextUserIds = sql('seed.nextUserIds', `SELECT nextval(pg_get_serial_sequence('users', 'id'))::text AS id FROM generate_series(1, $1::int)`);
const maxId = (table: 'articles' | 'comments') => sql(`seed.maxId.${table}`, `SELECT coalesce(max(id), 0)::text AS id FROM ${table}`);
const idsAfter = (table: 'articles') => sql(`seed.idsAfter.${table}`, `SELECT id::text AS id FROM ${table} WHERE id > $1 ORDER BY id`);
const threadComments = sql(
  'seed.threadComments',
  `UPDATE comments c SET parent_id = x.prev
   FROM (SELECT id, lag(id) OVER (PARTITION BY article_id ORDER BY id) AS prev FROM comments WHERE id > $1) x
   WHERE c.id = x.id AND x.prev IS NOT NULL AND c.id % 3 = 0`,
);

function words(r: Random, z: Zipf, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[z.sample(r)]!);
  return out.join(' ');
}

function title(r: Random): string {
  return r
    .pick(TITLE_PATTERNS)
    .replace('{t}', r.pick(TOPICS))
    .replace('{u}', r.pick(TOPICS))
    .replace('{a}', r.pick(ADJECTIVES))
    .replace(/^./, (c) => c.toUpperCase());
}

function slugOf(t: string, i: number): string {
  const base = t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80).replace(/-+$/, '');
  return `${base}-${i.toString(36)}`;
}

function lang(r: Random): string {
  let u = r.next();
  for (const [l, p] of LANGS) if ((u -= p) < 0) return l;
  return 'en';
}

/** Fills the database; returns how many rows of each kind it added. */
export async function seed(cluster: Cluster, opts: SeedOptions): Promise<SeedCounts> {
  if (!Number.isInteger(opts.scale) || opts.scale < 1) throw new PgpressError('PGP_VALIDATION', `--scale must be a whole number ≥ 1, got ${opts.scale}.`);
  const counts = seedCounts(opts.scale);
  const ring = opts.keys ?? resolveKeyRing({ keys: undefined, blindIndexKey: undefined }, opts.dataDir ?? '.pgpress');
  const r = new Random(opts.seed ?? 42);
  const now = (opts.now ?? new Date()).getTime();
  const span = (opts.monthsBack ?? 3) * 30 * 86_400_000;
  const progress = opts.onProgress ?? (() => undefined);
  const wordZipf = new Zipf(WORDS.length, 1.0);
  const tail = tailVocabulary(TAIL_WORDS);
  const tailZipf = new Zipf(tail.length, 1.0);
  const tailWords = (k: number): string => Array.from({ length: k }, () => tail[tailZipf.sample(r)]!).join(' ');
  // Recent moments are likelier: activity grows towards now.
  const recent = (): Date => new Date(now - span * Math.pow(r.next(), 2));

  // Partitions for every month the events will land in, so they skip the default partition.
  const first = monthOf(new Date(now - span));
  await createMonthPartitions(cluster, 'article_events', monthRange(first, addMonths(monthOf(new Date(now)), 1)));
  await createMonthPartitions(cluster, 'audit_log', monthRange(first, addMonths(monthOf(new Date(now)), 1)));

  const lease = await backgroundLease(cluster);
  const client = lease.client;
  try {
    const q = async (nq: { name: string; text: string }, params: unknown[] = []): Promise<{ id: string }[]> =>
      (await client.query<{ id: string }>({ text: nq.text, values: params })).rows;
    const runTag = r.int(0, 1e9).toString(36);

    // Users as createUser writes them: email NULL, sealed under the ring's current key, blind index.
    const userIds = (await q(nextUserIds, [counts.users])).map((x) => Number(x.id)).sort((a, b) => a - b);
    await copyRows(client, 'users', ['id', 'email_ciphertext', 'email_key_id', 'email_index', 'username', 'display_name', 'bio', 'created_at'], counts.users, (i) => {
      const id = userIds[i]!;
      const n = `u${runTag}_${id}`.slice(0, 32);
      const email = `${n}@example.com`;
      const s = seal(ring, 'users', 'email', id, email);
      return [id, s.ciphertext, s.keyId, emailIndex(ring, email), n, `User ${id}`, words(r, wordZipf, r.int(0, 20)), new Date(now - span - r.int(0, 365) * 86_400_000)];
    }, (d) => progress('users', d, counts.users));
    const authorZipf = new Zipf(userIds.length, 1.2);

    const articleBase = Number((await q(maxId('articles')))[0]!.id);
    await copyRows(client, 'articles', ['author_id', 'title', 'slug', 'body', 'status', 'tags', 'metadata', 'created_at', 'updated_at', 'published_at'], counts.articles, (i) => {
      const t = title(r);
      const created = recent();
      const u = r.next();
      const status = u < 0.85 ? 'published' : u < 0.95 ? 'draft' : 'archived';
      const paragraphs = Array.from({ length: r.int(2, 5) }, () => `${words(r, wordZipf, r.int(30, 60))} ${tailWords(r.int(1, 3))} ${r.pick(TOPICS)}.`);
      const tags = [...new Set(Array.from({ length: r.int(1, 4) }, () => r.pick(TOPICS).toLowerCase().replace(/[^a-z0-9]+/g, '-')))];
      const published = status === 'draft' ? null : new Date(Math.min(now, created.getTime() + r.int(0, 3_600_000)));
      return [userIds[authorZipf.sample(r)]!, t, slugOf(t, articleBase + i), paragraphs.join('\n\n'), status, tags,
        { lang: lang(r), readingMinutes: r.int(1, 20), source: r.chance(0.3) ? 'import' : 'editor' }, created, published ?? created, published];
    }, (d) => progress('articles', d, counts.articles));
    const articleIds = (await q(idsAfter('articles'), [articleBase])).map((x) => Number(x.id));
    // Popularity is Zipf over a shuffled order, so it does not follow the id.
    for (let i = articleIds.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [articleIds[i], articleIds[j]] = [articleIds[j]!, articleIds[i]!];
    }
    const articleZipf = new Zipf(articleIds.length, 1.1);
    const userPick = new Zipf(userIds.length, 0.8);

    const commentBase = Number((await q(maxId('comments')))[0]!.id);
    await copyRows(client, 'comments', ['article_id', 'author_id', 'body', 'created_at'], counts.comments, () =>
      [articleIds[articleZipf.sample(r)]!, userIds[userPick.sample(r)]!, `${r.pick(COMMENT_OPENERS)} ${words(r, wordZipf, r.int(5, 40))}`, recent()],
    (d) => progress('comments', d, counts.comments));
    await client.query({ text: threadComments.text, values: [commentBase] });

    await copyRows(client, 'article_events', ['article_id', 'user_id', 'kind', 'read_ms', 'occurred_at'], counts.events, () => {
      const u = r.next();
      const kind = u < 0.8 ? 'view' : u < 0.92 ? 'read_time' : u < 0.98 ? 'like' : 'share';
      return [articleIds[articleZipf.sample(r)]!, r.chance(0.6) ? userIds[userPick.sample(r)]! : null, kind,
        kind === 'read_time' ? r.int(2_000, 600_000) : null, recent()];
    }, (d) => progress('events', d, counts.events));

    progress('analyze', 0, 1);
    for (const t of ['users', 'articles', 'comments', 'article_events', 'audit_log']) await client.query(`ANALYZE ${quoteIdent(t)}`);
    progress('analyze', 1, 1);
    return counts;
  } catch (e) {
    throw fromPgError(e);
  } finally {
    lease.release();
  }
}
