// The migration runner: applies pending migrations under an advisory lock, one transaction each,
// after checking the files against the hash-chained tracking table.
import pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { applyMigration, type AppliedMigration } from './applyMigration.ts';
import { findDrift, type Drift } from './drift.ts';
import { runHook } from './hooks.ts';
import { adoptLegacyRows } from './legacyTracking.ts';
import { acquireMigrationLock } from './lock.ts';
import { DEFAULT_LOCK_POLICY, type LockPolicy } from './lockRetry.ts';
import { readMigrationSet, type HookSource, type MigrationFile } from './migrationFiles.ts';
import { ensureTracking, readTracking, trackingExists, type TrackingRow } from './trackingTable.ts';

export { MIGRATION_LOCK_KEY } from './lock.ts';
export type { AppliedMigration } from './applyMigration.ts';

/** How to run migrations. */
export interface MigrateOptions {
  url: string;
  dir: string;
  /** Wait for another runner's lock (default) or fail at once with PGP_MIGRATION_LOCKED. */
  wait?: boolean;
  /** How long to wait for the lock, in ms (default 60 s). */
  lockWaitMs?: number;
  /** Apply up to and including this version only. */
  to?: number;
  /** lock_timeout per DDL statement and the retries after it (defaults: 5 s, 5 retries). */
  lock?: Partial<LockPolicy>;
  log?: (message: string) => void;
}

/** A migration's state: on disk and in the tracking table, or only in one of them. */
export interface MigrationState {
  version: number;
  name: string;
  state: 'applied' | 'pending' | 'changed' | 'missing';
  appliedAt: Date | null;
}

/** Applies every pending migration in order; returns what it applied (empty when current). */
export async function migrate(opts: MigrateOptions): Promise<AppliedMigration[]> {
  const set = await readMigrationSet(opts.dir);
  const log = opts.log ?? ((): void => undefined);
  const lock: LockPolicy = { ...DEFAULT_LOCK_POLICY, ...opts.lock };
  const client = await connectMigrator(opts.url);
  try {
    await acquireMigrationLock(client, opts.wait ?? true, opts.lockWaitMs ?? 60_000);
    const rows = await prepareTracking(client, set.migrations, log);
    assertNoDrift(set.migrations, rows);
    const pending = pendingOf(set.migrations, rows, opts.to);
    if (pending.length === 0) return [];
    if (set.beforeAll) await runRunHook(client, set.beforeAll, 'before_all', log);
    const result: AppliedMigration[] = [];
    let previousHash = rows.at(-1)?.rowHash ?? null;
    for (const file of pending) {
      const { rowHash, ...applied } = await applyMigration(file, { client, lock, previousHash, log });
      previousHash = rowHash;
      result.push(applied);
      log(`applied ${file.file} in ${applied.durationMs} ms`);
    }
    if (set.afterAll) await runRunHook(client, set.afterAll, 'after_all', log);
    return result;
  } finally {
    // Ending the session releases the advisory lock too.
    await client.end().catch(() => undefined);
  }
}

/** Lists every migration with its state, without changing anything. */
export async function migrationStatus(opts: Pick<MigrateOptions, 'url' | 'dir'>): Promise<MigrationState[]> {
  const { migrations: files } = await readMigrationSet(opts.dir);
  const client = await connectMigrator(opts.url);
  try {
    const applied = (await trackingExists(client)) ? await readTracking(client) : [];
    const byVersion = new Map(applied.map((r) => [r.version, r]));
    const states: MigrationState[] = files.map((f) => {
      const row = byVersion.get(f.version);
      byVersion.delete(f.version);
      if (!row) return { version: f.version, name: f.name, state: 'pending', appliedAt: null };
      return { version: f.version, name: f.name, state: row.checksum === f.checksum ? 'applied' : 'changed', appliedAt: new Date(row.appliedAt) };
    });
    for (const row of byVersion.values()) {
      states.push({ version: row.version, name: row.name, state: 'missing', appliedAt: new Date(row.appliedAt) });
    }
    return states.sort((a, b) => a.version - b.version);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The migrations a run would apply, in order: not yet applied and at most `to`. */
export function pendingOf(files: readonly MigrationFile[], rows: readonly TrackingRow[], to?: number): MigrationFile[] {
  const done = new Set(rows.map((r) => r.version));
  return files.filter((f) => !done.has(f.version) && (to === undefined || f.version <= to));
}

/** Stops with PGP_MIGRATION_DRIFT naming every file that differs and how. */
export function assertNoDrift(files: readonly MigrationFile[], rows: readonly TrackingRow[]): void {
  const drift: Drift[] = findDrift(files, rows);
  if (drift.length === 0) return;
  throw new PgpressError('PGP_MIGRATION_DRIFT', drift.map((d) => d.message).join('\n'), { details: { drift } });
}

/** A session for migration work; the server drops it promptly if this process dies mid-statement. */
export async function connectMigrator(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'pgpress-migrate' });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    throw new PgpressError('PGP_DB_UNAVAILABLE', `Cannot connect to the database to migrate: ${(e as Error).message}`, { cause: e });
  }
  // Without this a killed runner's backend finishes its statement (and keeps the lock) before noticing (PG 14+).
  await client.query("SELECT set_config('client_connection_check_interval', '1000', false)").catch(() => undefined);
  return client;
}

/** Creates or evolves the tracking table and adopts v1 rows, in one transaction; returns the rows (call under the lock). */
export async function prepareTracking(client: pg.Client, files: readonly MigrationFile[], log: (m: string) => void): Promise<TrackingRow[]> {
  await client.query('BEGIN');
  try {
    const unchained = await ensureTracking(client);
    const rows = await readTracking(client);
    const result = unchained ? await adoptLegacyRows(client, files, rows, log) : rows;
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    // The application role (DATABASE_URL without MIGRATION_DATABASE_URL) may not create or write the record.
    if ((e as { code?: string }).code === '42501') {
      throw new PgpressError(
        'PGP_MIGRATION_FAILED',
        `Role ${JSON.stringify(client.user)} may not manage the migration record (${(e as Error).message}): migrations run as the owner. ` +
          'Set MIGRATION_DATABASE_URL to pgpress_owner (a superuser for the first migration of a server); see docs/security.md.',
        { cause: e },
      );
    }
    throw e;
  }
}

async function runRunHook(client: pg.Client, source: HookSource, phase: 'before_all' | 'after_all', log: (m: string) => void): Promise<void> {
  await client.query('BEGIN');
  try {
    await runHook(client, source, phase, null, log);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
