// The restore drill, shared by its test (test/recovery/restoreDrill.test.ts, which asserts) and its
// bench scenario (bench/recovery.ts, which reports figures at seed scale): on a throwaway primary
// with WAL archiving, clients write through the HTTP API; a base backup is taken while they write;
// a moment T is noted; they write on; a table is dropped by mistake. Then:
//  - restore to T: the writers' rows must be exactly those the source had committed at or before T
//    (row_diff, whole rows compared), and the tables nobody wrote to after the backup must match;
//  - RPO: restore to 'latest' once the last segment is archived (pg_switch_wal, then wait): the
//    acknowledged writes it lacks (rpo_acked_lost);
//  - RTO: seconds from the restore call to an API over the restored server answering /readyz 200.
//
// The rule at T. The source runs with track_commit_timestamp, so every row carries the time of the
// commit that wrote it, and T is read from the server's own clock (cut to whole milliseconds, as
// recovery_target_time takes it). PostgreSQL's recovery (recovery_target_inclusive on) replays every
// commit with a timestamp <= T and stops before the first one after it: the expected rows are those
// the source shows with commit time <= T. A write acknowledged a hair before T can commit after T
// in the server's clock only if its answer came after T; so the commit times decide, and two plain
// claims are checked besides, on the client's clock (the same machine's): every write answered
// before T is restored, and none sent after T is.
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { configureArchiving, restoreBackup, takeBackup, waitForArchived, type RestoredServer } from '../../src/backup/index.ts';
import { Cluster } from '../../src/db/cluster.ts';
import { quoteIdent } from '../../src/db/sql.ts';
import { buildApp } from '../../src/http/app.ts';
import { migrate } from '../../src/migrate/index.ts';
import { seed } from '../../src/ops/seed/seed.ts';
import { tokenService } from '../../src/security/tokens.ts';
import { createStore, type Store } from '../../src/store.ts';
import { markersIn, outcomeClass, startApiWriters, type Markers, type WriteOutcome } from './apiWriters.ts';
import { freePort } from './freePort.ts';
import { startCluster, type TestCluster } from './pgCluster.ts';

/** How big and how long. */
export interface DrillOptions {
  /** `seed --scale N` before the backup (default 0: no seed data). */
  scale?: number;
  /** Concurrent API writers (default 4). */
  writers?: number;
  /** Writing time before the backup, between the backup and T, and after T (default 1500 ms). */
  phaseMs?: number;
  log?: (line: string) => void;
}

/** What the drill found; the *_s figures are seconds. */
export interface DrillReport {
  scale: number;
  writes: number;
  acked: number;
  failed: number;
  unknown: number;
  /** T on the server's clock, ISO. */
  t: string;
  /** Writer rows committed at or before T on the source / after T. */
  rows_before_t: number;
  rows_after_t: number;
  /** Rows expected at T but missing, present but not expected, or present with other contents. */
  row_diff: number;
  missing: string[];
  extra: string[];
  changed: string[];
  /** Writes answered 2xx before T that the restore lacks; writes sent after T that it has. */
  acked_before_t_missing: string[];
  sent_after_t_present: string[];
  /** Tables nobody wrote to after the backup whose restored rows differ from the source's. */
  tables_differing: string[];
  /** The dropped table is back in the restore to T. */
  dropped_table_restored: boolean;
  rpo_acked_lost: number;
  rpo_lost: string[];
  /** Restore call → API /readyz 200 over the restored server. */
  rto_s: number;
  /** Of which: restoreBackup (copy, checksums, WAL replay, promotion). */
  restore_s: number;
  backup_s: number;
  backup_mb: number;
}

const DROPPED = 'comments';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Row count and an order-independent hash of every row, per table (users, articles, the seed's
 *  comments and events): the tables the writers do not touch. */
async function fingerprints(url: string, articleId: number): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const q = async (sql: string, params: unknown[] = []): Promise<string> => {
      const { rows: [r] } = await client.query<{ n: string; h: string }>(`SELECT count(*)::text AS n, coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text AS h FROM ${sql}`, params);
      return `${r!.n} rows, hash ${r!.h}`;
    };
    return {
      users: await q('users t'),
      articles: await q('articles t'),
      'comments (seed)': await q('comments t WHERE t.article_id <> $1', [articleId]),
      'article_events (seed)': await q('article_events t WHERE t.article_id <> $1', [articleId]),
    };
  } finally {
    await client.end();
  }
}

async function one<T>(url: string, sql: string, params: unknown[] = []): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows[0] as T;
  } finally {
    await client.end();
  }
}

/** An API over url, listening on 127.0.0.1; close() closes it and its store. */
async function serveApi(url: string, migrationsDir: string): Promise<{ baseUrl: string; store: Store; app: FastifyInstance; tokens: ReturnType<typeof tokenService>; close(): Promise<void> }> {
  const store = await createStore({ url, migrationsDir, pool: { max: 4 } });
  const tokens = tokenService(randomBytes(32).toString('hex'));
  const app = await buildApp({ store, tokens, rateLimit: { max: 0, windowMs: 60_000 }, shedEventLoopDelayMs: 0 });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  return { baseUrl, store, app, tokens, close: async () => { await app.close(); await store.close(); } };
}

/** Polls GET /readyz until it answers 200. */
async function untilReady(baseUrl: string, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > end) throw new Error(`the API over the restored server was not ready within ${timeoutMs} ms (${last})`);
    await sleep(50);
  }
}

function ackedLost(outcomes: readonly WriteOutcome[], restored: Markers): string[] {
  return outcomes.filter((o) => outcomeClass(o) === 'acked' && !restored.present.has(o.marker)).map((o) => o.marker);
}

/** Runs the drill and removes everything it started; throws if a step fails (not if figures are bad). */
export async function runRestoreDrill(opts: DrillOptions = {}): Promise<DrillReport> {
  const log = opts.log ?? (() => undefined);
  const phaseMs = opts.phaseMs ?? 1_500;
  const scale = opts.scale ?? 0;
  let pgc: TestCluster | undefined;
  let source: Awaited<ReturnType<typeof serveApi>> | undefined;
  let writers: ReturnType<typeof startApiWriters> | undefined;
  const restored: RestoredServer[] = [];
  let api: Awaited<ReturnType<typeof serveApi>> | undefined;
  try {
    // fsync off: nothing here crashes the source, and the restores read the archive, which the
    // archive command syncs itself.
    pgc = await startCluster({ settings: { track_commit_timestamp: 'on', fsync: 'off' } });
    const primary = pgc.primary;
    // Everything lives in the cluster's folder, so the harness removes it (and stops a restored
    // server left running by a crash of this process) with the cluster.
    const root = path.dirname(primary.dataDir);
    const backupDir = path.join(root, 'backups');
    // The server path: archiving is switched on for a running server, which then needs a restart.
    if ((await configureArchiving({ databaseUrl: primary.url, backupDir })).restartNeeded) {
      await primary.stop('fast');
      await primary.start();
    }
    log('archiving on');
    // The migrations as they are now, for the source and the restored server's API alike: the
    // restored database is as current as the app that wrote it, whatever lands in migrations/ meanwhile.
    const migrationsDir = path.join(root, 'migrations');
    fs.cpSync('migrations', migrationsDir, { recursive: true });
    await migrate({ url: primary.url, dir: migrationsDir });
    log('migrated');
    source = await serveApi(primary.url, migrationsDir);
    if (scale > 0) {
      const t0 = Date.now();
      // As `pgpress seed` does: its own small Cluster without a statement timeout (large COPYs).
      const seeder = new Cluster({ url: primary.url, max: 2, statementTimeoutMs: 0 });
      try {
        await seed(seeder, { scale, seed: 1 });
      } finally {
        await seeder.close();
      }
      log(`seeded scale ${scale} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const user = await source.store.users.create({ email: 'drill@example.com', username: 'drill', displayName: 'Drill' });
    const article = await source.store.articles.create({ authorId: user.id, title: 'Restore drill', status: 'published' });
    writers = startApiWriters({ baseUrl: source.baseUrl, articleId: article.id, bearer: `Bearer ${source.tokens.sign({ userId: user.id, role: 'author' })}`, writers: opts.writers ?? 4 });

    await sleep(phaseMs);
    log('writing; taking a base backup');
    const backup = await takeBackup({ databaseUrl: primary.url, backupDir });
    log(`base backup ${backup.id}: ${backup.files} files, ${(backup.bytes / 1e6).toFixed(1)} MB in ${(backup.durationMs / 1000).toFixed(1)} s`);
    await sleep(phaseMs);
    const tBefore = Date.now();
    const { t } = await one<{ t: Date }>(primary.url, "SELECT date_trunc('milliseconds', clock_timestamp()) AS t");
    const tAfter = Date.now();
    await sleep(phaseMs);
    const outcomes = await writers.stop();
    writers = undefined;

    // The source as it stands (before the mistake): each writer row with its commit time.
    const src = await markersIn(primary.url, article.id);
    const srcTables = await fingerprints(primary.url, article.id);
    await waitForArchived(primary.url);
    log(`writers stopped (${outcomes.length} writes); last segment archived`);

    // RPO: everything archived, replayed.
    const latest = await restoreBackup({ backupDir, to: 'latest', targetDir: path.join(root, 'restored-latest'), port: await freePort() });
    restored.push(latest);
    const atLatest = await markersIn(latest.url, article.id);
    const rpoLost = ackedLost(outcomes, atLatest);
    await latest.stop();
    log(`restore to latest: ${atLatest.present.size} writer rows, ${rpoLost.length} acknowledged writes lost`);

    // The mistake, archived like everything else.
    await primary.query(`DROP TABLE ${quoteIdent(DROPPED)} CASCADE`);
    await source.store.events.record({ articleId: article.id, kind: 'view' });
    await waitForArchived(primary.url);

    // RTO: from the restore call to an API that answers ready.
    const r0 = Date.now();
    const atT = await restoreBackup({ backupDir, to: t, targetDir: path.join(root, 'restored-t'), port: await freePort() });
    restored.push(atT);
    const restoreMs = Date.now() - r0;
    api = await serveApi(atT.url, migrationsDir);
    await untilReady(api.baseUrl);
    const rtoMs = Date.now() - r0;

    const dropped = await one<{ back: boolean }>(atT.url, 'SELECT to_regclass($1) IS NOT NULL AS back', [DROPPED]);
    const got = dropped.back ? await markersIn(atT.url, article.id) : { present: new Map(), duplicates: [] };
    const expected = new Map([...src.present].filter(([, r]) => r.committedUs !== null && r.committedUs <= t.getTime() * 1000));
    const missing = [...expected.keys()].filter((m) => !got.present.has(m));
    const extra = [...got.present.keys()].filter((m) => !expected.has(m));
    const changed = [...expected].filter(([m, r]) => got.present.has(m) && got.present.get(m)!.hash !== r.hash).map(([m]) => m);
    const gotTables = dropped.back ? await fingerprints(atT.url, article.id) : {};

    return {
      scale,
      writes: outcomes.length,
      acked: outcomes.filter((o) => outcomeClass(o) === 'acked').length,
      failed: outcomes.filter((o) => outcomeClass(o) === 'failed').length,
      unknown: outcomes.filter((o) => outcomeClass(o) === 'unknown').length,
      t: t.toISOString(),
      rows_before_t: expected.size,
      rows_after_t: src.present.size - expected.size,
      row_diff: missing.length + extra.length + changed.length,
      missing, extra, changed,
      acked_before_t_missing: outcomes.filter((o) => outcomeClass(o) === 'acked' && o.answeredAt < tBefore && !got.present.has(o.marker)).map((o) => o.marker),
      sent_after_t_present: outcomes.filter((o) => o.sentAt > tAfter && got.present.has(o.marker)).map((o) => o.marker),
      tables_differing: Object.keys(srcTables).filter((k) => srcTables[k] !== gotTables[k]).map((k) => `${k}: source ${srcTables[k]}, restored ${gotTables[k] ?? 'missing'}`),
      dropped_table_restored: dropped.back,
      rpo_acked_lost: rpoLost.length,
      rpo_lost: rpoLost,
      rto_s: rtoMs / 1000,
      restore_s: restoreMs / 1000,
      backup_s: backup.durationMs / 1000,
      backup_mb: Math.round(backup.bytes / 1e5) / 10,
    };
  } finally {
    await writers?.stop().catch(() => undefined);
    await api?.close().catch(() => undefined);
    await source?.close().catch(() => undefined);
    for (const r of restored) await r.stop().catch(() => undefined);
    await pgc?.destroy();
  }
}
