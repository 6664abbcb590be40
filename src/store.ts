// createStore: the library face — a Cluster plus the content services over it.
import { resolve } from 'node:path';
import { Cluster, type ClusterOptions, type Queryable } from './db/cluster.ts';
import { resolveClusterOptions } from './db/clusterOptions.ts';
import { isMultiHost } from './db/topologyUrl.ts';
import type { TargetHealth } from './db/health.ts';
import { inSession, newSession, type ConsistencySession } from './db/session.ts';
import { QueryCache, type QueryCacheOptions } from './cache/queryCache.ts';
import type { RedisClient } from './cache/l2.ts';
import { tags } from './cache/types.ts';
import { articleWriteTags, cachedReads } from './content/cachedReads.ts';
import { migrationCurrency, readMigrations, type MigrationCurrency, type MigrationFile } from './migrate/index.ts';
import { createUser, getSealedUser, openUser, updateUser, userPointReads, type NewUser, type User, type UserProfilePatch } from './content/users/repository.ts';
import { resolveKeyRing, type KeyRing } from './security/keyRing.ts';
import {
  archive, articlePointReads, createArticle, getArticle, getArticleBySlug, publish, updateArticleFields, type Article, type ArticleCheck, type ArticlePatch, type NewArticle,
} from './content/articles/repository.ts';
import { feedPage, type FeedOptions, type FeedPage } from './content/feed/repository.ts';
import type { ContentFilter } from './content/feed/filter.ts';
import { findSimilarTitles, search, type SearchHit, type TitleMatch } from './content/search/repository.ts';
import { createComment, deleteComment, listComments, type Comment, type NewComment } from './content/comments/repository.ts';
import { eventCounts, recordEvent, recordEvents, type ArticleEvent, type EventIngestOptions } from './content/events/repository.ts';
import { getArticleStats, getUserStats, topArticles, type ArticleStats, type UserStats } from './content/analytics/repository.ts';
import { matviewStaleness, refreshMatview, type Matview, type MatviewStaleness } from './ops/matviews.ts';
import type { Settings } from './config/settings.ts';
import { PACKAGE_MIGRATIONS_DIR } from './config/packagePaths.ts';
import { PgpressError } from './errors/index.ts';
import { hasRlsContext, rlsTxOptions } from './security/rlsContext.ts';
import { oneStatementTx } from './db/pipelineWrite.ts';
import { batchingReads } from './db/pointReadBatch.ts';

/** Readiness of the store: can it reach the database, is the schema current, how is each target? */
export interface Readiness {
  ready: boolean;
  database: { reachable: boolean; migrations: MigrationCurrency | null; error?: string };
  /** The primary and each replica: state, lag, breaker, lanes. */
  targets: TargetHealth[];
}

/** The caller's consistency session: reads in it see its earlier writes (read-your-writes). */
export interface ReadContext {
  session?: ConsistencySession;
  /** When the caller stops waiting (Date.now() scale): what is left is each call's deadlineMs. */
  deadline?: number;
  /** The acting user: row-level security shows them their own drafts (and their comments). */
  actorId?: number;
  /** The actor's role (author, editor, admin) as pgpress.role: editors and admins see every row. */
  role?: string;
}

/** Statements a caller runs in a write's own transaction: before it, and after it with its value
 *  (the HTTP layer claims an idempotency key and stores the answer, atomically with the write). */
export interface WriteHooks {
  before(q: Queryable): Promise<void>;
  after(q: Queryable, value: unknown): Promise<void>;
}

/** Who performs a write (recorded by the audit log through pgpress.actor_id), and its session. */
export interface WriteContext extends ReadContext {
  actorId?: number;
  /** Run in the write's transaction (the write then takes the tx() path, not the one-round-trip one). */
  inTx?: WriteHooks;
}

/** A write to or under an article, with the caller's permission check run in its transaction on the primary. */
export interface ArticleWriteContext extends WriteContext {
  check?: ArticleCheck;
}

/** Who sends events (editors and admins see every article) and until when they wait. */
export interface EventContext {
  seesAll?: boolean;
  deadline?: number;
  /** The sender and role, SET LOCAL for row-level security (a draft is visible to its author, editors, admins). */
  actorId?: number;
  role?: string;
  /** Run in the events' transaction (as WriteContext.inTx). */
  inTx?: WriteHooks;
}

/** fn between the hooks' before and after, in the same transaction; fn itself without hooks. */
function hooked<T>(hooks: WriteHooks | undefined, fn: (q: Queryable) => Promise<T>): (q: Queryable) => Promise<T> {
  if (hooks === undefined) return fn;
  return async (q) => {
    await hooks.before(q);
    const value = await fn(q);
    await hooks.after(q, value);
    return value;
  };
}

/** What is left until deadline, as a call's deadlineMs (at least 1: an expired call fails at once). */
function remainingMs(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
}

/** A Queryable whose every call carries the context's deadline, computed when the call starts. */
function withDeadline(db: Queryable, deadline: number | undefined): Queryable {
  if (deadline === undefined) return db;
  return { query: (q, params, o) => db.query(q, params, { ...o, deadlineMs: remainingMs(deadline) }) };
}

/** The storage platform as a library. */
export interface Store {
  readonly cluster: Cluster;
  /** The query cache (undefined when caching is off): its invalidate() takes tags from outside writers. */
  readonly cache: QueryCache | undefined;
  readonly users: {
    create(input: NewUser, ctx?: WriteContext): Promise<User>;
    get(id: number, ctx?: ReadContext): Promise<User>;
    update(id: number, patch: UserProfilePatch, ctx?: WriteContext): Promise<User>;
  };
  readonly articles: {
    create(input: NewArticle, ctx?: WriteContext): Promise<Article>;
    get(id: number, ctx?: ReadContext): Promise<Article>;
    getBySlug(slug: string, ctx?: ReadContext): Promise<Article>;
    /** Optimistic locking: a stale expectedVersion is PGP_CONFLICT. */
    update(id: number, expectedVersion: number, patch: ArticlePatch, ctx?: ArticleWriteContext): Promise<Article>;
    publish(id: number, expectedVersion: number, ctx?: ArticleWriteContext): Promise<Article>;
    archive(id: number, expectedVersion: number, ctx?: ArticleWriteContext): Promise<Article>;
  };
  readonly feed: {
    page(opts?: FeedOptions, ctx?: ReadContext): Promise<FeedPage>;
  };
  readonly search: {
    /** `filter`: only articles whose metadata contains `meta` and/or whose metadata.lang is `lang`. */
    articles(text: string, limit?: number, offset?: number, ctx?: ReadContext, filter?: ContentFilter): Promise<SearchHit[]>;
    similarTitles(text: string, limit?: number, ctx?: ReadContext): Promise<TitleMatch[]>;
  };
  readonly comments: {
    list(articleId: number, opts?: { afterId?: number; limit?: number }, ctx?: ReadContext): Promise<Comment[]>;
    create(input: NewComment, ctx?: ArticleWriteContext): Promise<Comment>;
    /** Soft delete by the acting user, who must be the author. */
    delete(id: number, ctx: WriteContext & { actorId: number }): Promise<Comment>;
  };
  readonly events: {
    /** occurredAt within the retention window and at most a few minutes ahead; a hidden article answers as missing. */
    record(e: ArticleEvent, opts?: EventContext): Promise<string>;
    recordBatch(events: readonly ArticleEvent[], opts?: EventContext): Promise<number>;
    counts(articleId: number, from: Date, to: Date): Promise<Record<string, number>>;
  };
  readonly analytics: {
    article(id: number, ctx?: ReadContext): Promise<ArticleStats>;
    user(id: number, ctx?: ReadContext): Promise<UserStats>;
    top(window?: '7d' | '30d' | 'all', limit?: number, ctx?: ReadContext): Promise<ArticleStats[]>;
    refresh(view: Matview, opts?: { force?: boolean; maxAgeSeconds?: number }): Promise<boolean>;
    staleness(): Promise<MatviewStaleness[]>;
  };
  readiness(): Promise<Readiness>;
  /** True while callers queue four deep per connection of the default lane: time to shed load. */
  saturated(): boolean;
  close(): Promise<void>;
}

/** How to build a store: a database URL, plus optional pool settings, replicas and migrations folder. */
export interface StoreOptions {
  url: string;
  replicaUrls?: readonly string[];
  pool?: Partial<Settings['pool']> & Partial<Omit<ClusterOptions, 'url' | 'replicaUrls'>>;
  migrationsDir?: string;
  /** EVENTS_RETENTION_MONTHS: events older than the window are refused at ingestion (default 13). */
  eventsRetentionMonths?: number;
  /** Cache the content reads (article, feed, search, analytics, user): L1 in memory, L2 in `redis` when given. */
  cache?: StoreCacheOptions;
  /** The personal data key ring (users.email); unset: the data folder's generated keys (see keyRing.ts). */
  keys?: KeyRing;
  /** Where generated keys live when `keys` is unset (default .pgpress, as PGPRESS_DATA_DIR). */
  dataDir?: string;
}

/** The query cache's settings; the store opens its pub/sub connection from `redis` and closes it. */
export interface StoreCacheOptions extends Omit<QueryCacheOptions, 'subscriber' | 'redis'> {
  redis?: RedisClient;
}

/** Connects to PostgreSQL (lazily: the first query opens a connection) and returns the store. */
export async function createStore(opts: StoreOptions): Promise<Store> {
  const migrations: MigrationFile[] = await readMigrations(resolve(opts.migrationsDir ?? PACKAGE_MIGRATIONS_DIR));
  const cluster = new Cluster({ url: opts.url, ...opts.pool, replicaUrls: opts.replicaUrls ?? [] });
  // Writes run in a transaction that carries the actor (SET LOCAL), so audit rows name who acted,
  // and that yields a commit LSN (the read-your-writes token).
  const subscriber = opts.cache?.redis?.duplicate();
  // A change the database announces without a position may not be on a replica yet: with replicas,
  // entries it touches are not stored for the replica lag bound (a lagging replica leaves rotation).
  const replicated = (opts.replicaUrls ?? []).length > 0 || isMultiHost(opts.url) || (opts.pool?.patroniUrls ?? []).length > 0;
  const dbSettleMs = replicated ? resolveClusterOptions({ url: opts.url, ...opts.pool }).replicas.maxLagMs : 0;
  const cache = opts.cache ? new QueryCache({ dbSettleMs, ...opts.cache, ...(subscriber ? { subscriber } : {}) }) : undefined;
  // The cache's tags are invalidated only after the transaction committed (tx has returned), with
  // its commit LSN: never inside it, where a reader could reload the old row before the commit.
  const write = async <T>(ctx: WriteContext | undefined, fn: (q: Queryable) => Promise<T>, tagsOf?: (v: T) => string[]): Promise<T> => {
    const r = await cluster.tx(hooked(ctx?.inTx, fn), { session: ctx?.session, deadlineMs: remainingMs(ctx?.deadline), ...rlsTxOptions(ctx) });
    if (cache && tagsOf) await cache.invalidate(tagsOf(r.value), 'write', r.lsn === '' ? undefined : r.lsn);
    return r.value;
  };
  // A write of one statement (create an article, a comment): its transaction, context and commit
  // LSN in one network round trip (src/db/pipelineWrite.ts), otherwise as write().
  const writeOne = async <T>(ctx: WriteContext | undefined, fn: (q: Queryable) => Promise<T>, tagsOf?: (v: T) => string[]): Promise<T> => {
    // Hooks are statements of their own: the write is then a transaction of several.
    if (ctx?.inTx) return write(ctx, fn, tagsOf);
    const r = await oneStatementTx(cluster, { session: ctx?.session, deadlineMs: remainingMs(ctx?.deadline), ...rlsTxOptions(ctx) }, fn);
    if (cache && tagsOf) await cache.invalidate(tagsOf(r.value), 'write', r.lsn === '' ? undefined : r.lsn);
    return r.value;
  };
  // Point reads by id (articles, users) of one event-loop turn share one statement, each caller
  // with its own deadline and token; a lone read goes out at once (src/db/pointReadBatch.ts).
  const reads = batchingReads(cluster, [articlePointReads(cluster), userPointReads(cluster)]);
  const reader = (ctx: ReadContext | undefined): Queryable => withDeadline(inSession(reads, ctx?.session), ctx?.deadline);
  // Row-level security: a statement outside a transaction is anonymous (published rows only). A
  // caller with an actor reads in a transaction on the primary that SETs LOCAL its context.
  const asActor = async <T>(ctx: ReadContext | EventContext | undefined, fn: (q: Queryable) => Promise<T>): Promise<T> =>
    (await cluster.tx(fn, { deadlineMs: remainingMs(ctx?.deadline), ...rlsTxOptions(ctx) })).value;
  // Events with hooks: one transaction (with the sender's context, if any) around hooks and events.
  const eventsTx = <T>(o: EventContext, run: (q: Queryable) => Promise<T>): Promise<T> => asActor(o, hooked(o.inTx, run));
  // Published articles come from the usual (cached, replica-routed) read; one hidden from anonymous
  // readers is read again with the caller's context, where its author, editors and admins see it.
  const orAsActor = async <T>(ctx: ReadContext | undefined, anonymous: () => Promise<T>, fn: (q: Queryable) => Promise<T>): Promise<T> => {
    try {
      return await anonymous();
    } catch (e) {
      if (!(e instanceof PgpressError && e.code === 'PGP_NOT_FOUND') || !hasRlsContext(ctx)) throw e;
      return asActor(ctx, fn);
    }
  };
  const cached = cache ? cachedReads(cache, (token, deadline) => withDeadline(inSession(reads, newSession(token)), deadline)) : undefined;
  const rc = (ctx: ReadContext | undefined): { token?: string; deadline?: number } => ({
    ...(ctx?.session?.token === undefined ? {} : { token: ctx.session.token }),
    ...(ctx?.deadline === undefined ? {} : { deadline: ctx.deadline }),
  });
  // Resolved on first use: a store that never touches users creates no key files.
  let ring = opts.keys;
  const keys = (): KeyRing => (ring ??= resolveKeyRing({ keys: undefined, blindIndexKey: undefined }, opts.dataDir ?? '.pgpress'));
  const ingest: EventIngestOptions = opts.eventsRetentionMonths === undefined ? {} : { retentionMonths: opts.eventsRetentionMonths };
  return {
    cluster,
    cache,
    users: {
      create: (input, ctx) => write(ctx, (q) => createUser(q, keys(), input)),
      // The cache holds the email sealed: it is opened here, after the cache, never stored open.
      get: async (id, ctx) => openUser(keys(), await (cached ? cached.user(id, rc(ctx)) : getSealedUser(reader(ctx), id))),
      update: (id, patch, ctx) => write(ctx ?? { actorId: id }, (q) => updateUser(q, keys(), id, patch), (u) => [tags.user(u.id)]),
    },
    articles: {
      create: (input, ctx) => writeOne(ctx ?? { actorId: input.authorId }, (q) => createArticle(q, input), articleWriteTags),
      get: (id, ctx) => orAsActor(ctx, () => (cached ? cached.article(id, rc(ctx)) : getArticle(reader(ctx), id)), (q) => getArticle(q, id)),
      getBySlug: (slug, ctx) => orAsActor(ctx, () => (cached ? cached.articleBySlug(slug, rc(ctx)) : getArticleBySlug(reader(ctx), slug)), (q) => getArticleBySlug(q, slug)),
      update: (id, v, patch, ctx) => write(ctx, (q) => updateArticleFields(q, id, v, patch, ctx?.check), articleWriteTags),
      publish: (id, v, ctx) => write(ctx, (q) => publish(q, id, v, ctx?.check), articleWriteTags),
      archive: (id, v, ctx) => write(ctx, (q) => archive(q, id, v, ctx?.check), articleWriteTags),
    },
    feed: { page: (o, ctx) => (cached ? cached.feed(o ?? {}, rc(ctx)) : feedPage(reader(ctx), o)) },
    search: {
      articles: (text, limit, offset, ctx, filter) => (cached ? cached.search(text, limit, offset, filter, rc(ctx)) : search(reader(ctx), text, limit, offset, filter)),
      similarTitles: (text, limit, ctx) => (cached ? cached.similarTitles(text, limit, rc(ctx)) : findSimilarTitles(reader(ctx), text, limit)),
    },
    comments: {
      list: (articleId, o, ctx) => (hasRlsContext(ctx) ? asActor(ctx, (q) => listComments(q, articleId, o)) : listComments(reader(ctx), articleId, o)),
      create: (input, ctx) => (ctx?.check ? write : writeOne)(ctx ?? { actorId: input.authorId }, (q) => createComment(q, input, ctx?.check)),
      delete: (id, ctx) => write(ctx, (q) => deleteComment(q, id, ctx.actorId)),
    },
    events: {
      record: (e, o) => {
        const run = (q: Queryable): Promise<string> => recordEvent(q, e, { seesAll: o?.seesAll ?? false, ...ingest });
        if (o?.inTx) return eventsTx(o, run);
        return hasRlsContext(o) ? oneStatementTx(cluster, { deadlineMs: remainingMs(o?.deadline), ...rlsTxOptions(o) }, run).then((r) => r.value) : run(withDeadline(cluster, o?.deadline));
      },
      recordBatch: (es, o) => {
        const run = (q: Queryable): Promise<number> => recordEvents(q, es, { seesAll: o?.seesAll ?? false, ...ingest });
        if (o?.inTx) return eventsTx(o, run);
        return hasRlsContext(o) ? asActor(o, run) : run(withDeadline(cluster, o?.deadline));
      },
      counts: (articleId, from, to) => eventCounts(cluster, articleId, from, to),
    },
    analytics: {
      article: (id, ctx) => orAsActor(ctx, () => (cached ? cached.articleStats(id, rc(ctx)) : getArticleStats(reader(ctx), id)), (q) => getArticleStats(q, id)),
      user: (id, ctx) => (cached ? cached.userStats(id, rc(ctx)) : getUserStats(reader(ctx), id)),
      top: (w, limit, ctx) => (cached ? cached.top(w, limit, rc(ctx)) : topArticles(reader(ctx), w, limit)),
      refresh: async (view, o) => {
        const refreshed = await refreshMatview(cluster, view, o);
        if (refreshed) await cache?.invalidate([tags.analytics], 'write');
        return refreshed;
      },
      staleness: () => matviewStaleness(cluster),
    },
    async readiness() {
      const targets = await cluster.health();
      try {
        const m = await migrationCurrency(cluster, migrations);
        return { ready: m.current && targets[0]!.state === 'up', database: { reachable: true, migrations: m }, targets };
      } catch (e) {
        return { ready: false, database: { reachable: false, migrations: null, error: (e as Error).message }, targets };
      }
    },
    saturated: () => {
      const lane = cluster.lanes.default.stats();
      return lane.waiting > 4 * lane.max;
    },
    close: async () => {
      await cache?.close();
      subscriber?.disconnect();
      await cluster.close();
    },
  };
}
