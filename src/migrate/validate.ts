// `migrate validate`: history, checks and schema. Re-runs the checks of applied migrations, verifies the
// tracking chain and checksums, and compares the live catalog with what the migrations produce.
import pg from 'pg';
import { catalogSnapshot, diffSnapshots, type SnapshotDifference } from './catalogSnapshot.ts';
import { findDrift, type Drift } from './drift.ts';
import { runHook } from './hooks.ts';
import { readMigrationSet, type MigrationFile } from './migrationFiles.ts';
import { connectMigrator, migrate } from './runner.ts';
import { createScratchDatabase } from './scratchDatabase.ts';
import { readTracking, trackingExists } from './trackingTable.ts';

/** A check of an applied migration that failed now. */
export interface FailedCheck {
  file: string;
  message: string;
}

/** What validation found; `ok` when nothing. */
export interface ValidationReport {
  ok: boolean;
  applied: number;
  drift: Drift[];
  failedChecks: FailedCheck[];
  /** Live catalog vs the catalog the applied migrations produce in a scratch database. */
  schema: SnapshotDifference[];
  /** Set when the scratch database could not be built (the comparison did not run). */
  scratchError: string | null;
}

/** Validates the database at url against the migrations in dir; changes nothing in it. */
export async function validateMigrations(opts: { url: string; dir: string; log?: (m: string) => void }): Promise<ValidationReport> {
  const log = opts.log ?? ((): void => undefined);
  const { migrations } = await readMigrationSet(opts.dir);
  const client = await connectMigrator(opts.url);
  try {
    const rows = (await trackingExists(client)) ? await readTracking(client) : [];
    const drift = findDrift(migrations, rows);
    const appliedVersions = new Set(rows.map((r) => r.version));
    const applied = migrations.filter((f) => appliedVersions.has(f.version));
    const failedChecks = await runChecks(client, applied, log);
    const live = await catalogSnapshot(client);
    let schema: SnapshotDifference[] = [];
    let scratchError: string | null = null;
    const scratch = await createScratchDatabase(client, opts.url);
    try {
      const latest = rows.at(-1)?.version;
      // Only what is applied here: pending migrations are not drift.
      if (latest !== undefined) await migrate({ url: scratch.url, dir: opts.dir, to: latest, lock: { retries: 0 } });
      const expected = await withClient(scratch.url, catalogSnapshot);
      schema = diffSnapshots(expected, live);
    } catch (e) {
      scratchError = (e as Error).message;
    } finally {
      await scratch.drop();
    }
    const ok = drift.length === 0 && failedChecks.length === 0 && schema.length === 0 && scratchError === null;
    return { ok, applied: rows.length, drift, failedChecks, schema, scratchError };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs each applied migration's `check` companions inside a transaction that is always rolled back. */
async function runChecks(client: pg.Client, applied: readonly MigrationFile[], log: (m: string) => void): Promise<FailedCheck[]> {
  const failed: FailedCheck[] = [];
  for (const f of applied) {
    for (const source of f.hooks.check) {
      await client.query('BEGIN');
      try {
        await runHook(client, source, 'check', { version: f.version, name: f.name }, log);
      } catch (e) {
        failed.push({ file: source.file, message: (e as Error).message });
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
      }
    }
  }
  return failed;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'pgpress-migrate' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
