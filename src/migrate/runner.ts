// The migration runner: applies pending migrations under an advisory lock, one transaction each.
import pg from 'pg';
import { PgpressError, isPgServerError } from '../errors/index.ts';
import { readMigrations, type MigrationFile } from './migrationFiles.ts';
import { splitStatements } from './splitStatements.ts';
import { TRACKING_DDL, TRACKING_TABLE } from './trackingTable.ts';

/** Key of the session advisory lock every runner takes; one runner applies at a time. */
export const MIGRATION_LOCK_KEY = 7_283_901_115n;

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
  log?: (message: string) => void;
}

/** One migration the runner applied. */
export interface AppliedMigration {
  version: number;
  name: string;
  durationMs: number;
}

/** A migration's state: on disk and in the tracking table, or only in one of them. */
export interface MigrationState {
  version: number;
  name: string;
  state: 'applied' | 'pending' | 'changed' | 'missing';
  appliedAt: Date | null;
}

interface TrackingRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

/** Applies every pending migration in order; returns what it applied (empty when current). */
export async function migrate(opts: MigrateOptions): Promise<AppliedMigration[]> {
  const files = await readMigrations(opts.dir);
  const client = await connect(opts.url);
  try {
    await acquireLock(client, opts.wait ?? true, opts.lockWaitMs ?? 60_000);
    await client.query(TRACKING_DDL);
    const applied = await readTracking(client);
    assertNoDrift(files, applied);
    const done = new Set(applied.map((r) => r.version));
    const pending = files.filter((f) => !done.has(f.version) && (opts.to === undefined || f.version <= opts.to));
    const result: AppliedMigration[] = [];
    for (const file of pending) {
      result.push(await applyOne(client, file));
      opts.log?.(`applied ${file.file} in ${result.at(-1)!.durationMs} ms`);
    }
    return result;
  } finally {
    // Ending the session releases the advisory lock too.
    await client.end().catch(() => undefined);
  }
}

/** Lists every migration with its state, without changing anything. */
export async function migrationStatus(opts: Pick<MigrateOptions, 'url' | 'dir'>): Promise<MigrationState[]> {
  const files = await readMigrations(opts.dir);
  const client = await connect(opts.url);
  try {
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [TRACKING_TABLE]);
    const applied = exists.rows[0]?.t ? await readTracking(client) : [];
    const byVersion = new Map(applied.map((r) => [r.version, r]));
    const states: MigrationState[] = files.map((f) => {
      const row = byVersion.get(f.version);
      byVersion.delete(f.version);
      if (!row) return { version: f.version, name: f.name, state: 'pending', appliedAt: null };
      return { version: f.version, name: f.name, state: row.checksum === f.checksum ? 'applied' : 'changed', appliedAt: row.applied_at };
    });
    for (const row of byVersion.values()) {
      states.push({ version: row.version, name: row.name, state: 'missing', appliedAt: row.applied_at });
    }
    return states.sort((a, b) => a.version - b.version);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'pgpress-migrate' });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    throw new PgpressError('PGP_DB_UNAVAILABLE', `Cannot connect to the database to migrate: ${(e as Error).message}`, { cause: e });
  }
  return client;
}

async function acquireLock(client: pg.Client, wait: boolean, waitMs: number): Promise<void> {
  if (!wait) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATION_LOCK_KEY.toString()]);
    if (rows[0]?.ok) return;
    throw new PgpressError('PGP_MIGRATION_LOCKED', 'Another migration runner holds the migration lock; try again when it has finished, or pass --wait.');
  }
  await client.query('SELECT set_config($1, $2, false)', ['lock_timeout', `${waitMs}ms`]);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
  } catch (e) {
    if (isPgServerError(e) && e.code === '55P03') {
      throw new PgpressError('PGP_MIGRATION_LOCKED', `Another migration runner held the migration lock for over ${waitMs} ms.`, { cause: e });
    }
    throw e;
  } finally {
    await client.query('RESET lock_timeout');
  }
}

async function readTracking(client: pg.Client): Promise<TrackingRow[]> {
  const { rows } = await client.query<TrackingRow>(`SELECT version, name, checksum, applied_at FROM ${TRACKING_TABLE} ORDER BY version`);
  return rows;
}

function assertNoDrift(files: MigrationFile[], applied: TrackingRow[]): void {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of applied) {
    const file = byVersion.get(row.version);
    if (!file) {
      throw new PgpressError('PGP_MIGRATION_DRIFT', `Migration ${row.version} (${row.name}) was applied but its file is no longer in the migrations folder.`);
    }
    if (file.checksum !== row.checksum) {
      throw new PgpressError('PGP_MIGRATION_DRIFT', `Migration ${file.file} changed after it was applied (checksum ${row.checksum.slice(0, 12)}… now ${file.checksum.slice(0, 12)}…). Add a new migration instead of editing an applied one.`);
    }
  }
  const latest = applied.at(-1)?.version ?? 0;
  const late = files.find((f) => f.version < latest && !applied.some((r) => r.version === f.version));
  if (late) {
    throw new PgpressError('PGP_MIGRATION_DRIFT', `Migration ${late.file} is older than the latest applied migration (${latest}); renumber it after ${latest}.`);
  }
}

async function applyOne(client: pg.Client, file: MigrationFile): Promise<AppliedMigration> {
  const started = performance.now();
  await client.query('BEGIN');
  try {
    for (const stmt of splitStatements(file.sql)) {
      try {
        await client.query(stmt.text);
      } catch (e) {
        const first = stmt.text.split('\n')[0]!.slice(0, 120);
        throw new PgpressError(
          'PGP_MIGRATION_FAILED',
          `Migration ${file.file} failed at line ${stmt.line} (${first}): ${(e as Error).message}. Nothing of this migration was applied.`,
          { cause: e, details: { file: file.file, line: stmt.line, statement: stmt.text } },
        );
      }
    }
    const durationMs = Math.round(performance.now() - started);
    await client.query(
      `INSERT INTO ${TRACKING_TABLE} (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)`,
      [file.version, file.name, file.checksum, durationMs],
    );
    await client.query('COMMIT');
    return { version: file.version, name: file.name, durationMs };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
