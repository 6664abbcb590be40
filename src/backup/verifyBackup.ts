// `backup verify`: the backup's files against its manifest, then a restore into a throwaway cluster
// up to the backup's restore point, amcheck on every btree index, and the table figures compared
// with those recorded at that same point on the source.
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from '../db/freePort.ts';
import { checkFiles, pickBackup, type TableFigure } from './manifest.ts';
import { pgOwner } from './pgBinaries.ts';
import { restoreBackup } from './restoreBackup.ts';
import { currentFigures } from './tableFigures.ts';

/** What verify found. */
export interface VerifyReport {
  ok: boolean;
  backupId: string;
  /** Changed, truncated or missing files, each with what is wrong. */
  badFiles: string[];
  indexesChecked: number;
  tables: { name: string; rows: number; ok: boolean }[];
  /** One line per problem (empty when ok). */
  problems: string[];
  durationMs: number;
}

const BTREE_INDEXES = `SELECT c.oid::regclass::text AS name, c.oid
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
 WHERE a.amname = 'btree' AND c.relkind = 'i' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't'
 ORDER BY 1`;

/** Verifies the newest backup (or backupId); never throws for a bad backup — the report says what is wrong. */
export async function verifyBackup(opts: { backupDir: string; backupId?: string; pgBindir?: string }): Promise<VerifyReport> {
  const t0 = Date.now();
  const backupDir = resolve(opts.backupDir);
  const m = pickBackup(backupDir, 'latest', opts.backupId);
  const report: VerifyReport = { ok: false, backupId: m.id, badFiles: [], indexesChecked: 0, tables: [], problems: [], durationMs: 0 };
  const done = (): VerifyReport => {
    report.ok = report.problems.length === 0;
    report.durationMs = Date.now() - t0;
    return report;
  };
  report.badFiles = await checkFiles(backupDir, m);
  if (report.badFiles.length > 0) {
    report.problems.push(...report.badFiles.map((f) => `backup file ${f}`));
    return done();
  }

  // To the restore point written with the figures; without one, to the moment it became consistent.
  await checkInThrowawayCluster((at) => restoreBackup({
    backupDir, to: 'latest', backupId: m.id, ...at, pgBindir: opts.pgBindir, trustLocal: true,
    ...(m.restorePoint ? { restorePoint: m.restorePoint } : {}),
    settings: { ...(m.restorePoint ? {} : { recovery_target: 'immediate' }), shared_buffers: '32MB' },
  }), m.figures, m.figuresSkipped, report);
  return done();
}

/** Restores into a throwaway cluster (a scratch folder the postgres OS user may enter, a free
 *  port), checks it with checkRestoredCopy and removes it; a failed restore is a problem in report. */
export async function checkInThrowawayCluster(
  restore: (at: { targetDir: string; port: number }) => Promise<{ url: string; stop(): Promise<void> }>,
  figures: TableFigure[] | null,
  figuresSkipped: string | undefined,
  report: VerifyReport,
): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'pgpress-verify-'));
  const owner = pgOwner();
  if (owner) chownSync(scratch, owner.uid, owner.gid);
  try {
    const restored = await restore({ targetDir: join(scratch, 'pg'), port: await freePort() });
    try {
      await checkRestoredCopy(restored.url, figures, figuresSkipped, report);
    } finally {
      await restored.stop();
    }
  } catch (e) {
    report.problems.push(`restore into a throwaway cluster failed: ${(e as Error).message}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** amcheck on every btree index of the restored copy and its table figures against the source's; adds to report. */
export async function checkRestoredCopy(url: string, figures: TableFigure[] | null, figuresSkipped: string | undefined, report: VerifyReport): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    // Figures first: creating amcheck is DDL, which event triggers (the audit log) may record.
    if (figures === null) {
      report.problems.push(`no table figures were recorded with this backup (${figuresSkipped ?? 'unknown reason'}); files and indexes were checked only`);
    } else {
      const now = new Map((await currentFigures(client)).map((f) => [f.table, f]));
      for (const f of figures) {
        const got = now.get(f.table);
        const ok = got !== undefined && got.rows === f.rows && got.hash === f.hash;
        report.tables.push({ name: f.table, rows: got?.rows ?? 0, ok });
        if (!got) report.problems.push(`table ${f.table}: missing from the restored copy`);
        else if (!ok) report.problems.push(`table ${f.table}: ${got.rows} rows (hash ${got.hash}), the source had ${f.rows} rows (hash ${f.hash}) at the backup's restore point`);
      }
    }
    const checked = await amcheckIndexes(client);
    report.indexesChecked += checked.indexes;
    report.problems.push(...checked.problems);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** CREATE EXTENSION amcheck, then bt_index_check (with heapallindexed) on every valid btree index. */
export async function amcheckIndexes(client: pg.ClientBase): Promise<{ indexes: number; problems: string[] }> {
  // replica role: the check's own DDL fires no (audit) event triggers in the restored database.
  await client.query('SET session_replication_role = replica');
  await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
  await client.query('RESET session_replication_role');
  const { rows: indexes } = await client.query<{ name: string; oid: number }>(BTREE_INDEXES);
  const problems: string[] = [];
  for (const ix of indexes) {
    try {
      await client.query('SELECT bt_index_check($1::regclass, true)', [ix.oid]);
    } catch (e) {
      problems.push(`index ${ix.name}: amcheck: ${(e as Error).message}`);
    }
  }
  return { indexes: indexes.length, problems };
}
