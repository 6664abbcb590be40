// Is the database current with the migrations on disk? (readiness, without taking the lock)
import type { Queryable } from '../db/cluster.ts';
import { sql } from '../db/sql.ts';
import type { MigrationFile } from './migrationFiles.ts';
import { TRACKING_TABLE } from './trackingTable.ts';

const trackingExists = sql('migrate.trackingExists', 'SELECT to_regclass($1) IS NOT NULL AS present');
const appliedVersions = sql('migrate.applied', `SELECT version, checksum FROM ${TRACKING_TABLE}`);

/** What readiness needs to know about migrations. */
export interface MigrationCurrency {
  current: boolean;
  pending: number;
  changed: number;
}

/** Compares the tracking table with the files: pending (not applied) and changed (checksum differs). */
export async function migrationCurrency(db: Queryable, files: readonly MigrationFile[]): Promise<MigrationCurrency> {
  const { rows } = await db.query<{ present: boolean }>(trackingExists, [TRACKING_TABLE], { lane: 'critical', deadlineMs: 3_000 });
  const applied = rows[0]?.present ? (await db.query<{ version: number; checksum: string }>(appliedVersions, [], { lane: 'critical', deadlineMs: 3_000 })).rows : [];
  const byVersion = new Map(applied.map((r) => [r.version, r.checksum]));
  let pending = 0;
  let changed = 0;
  for (const f of files) {
    const checksum = byVersion.get(f.version);
    if (checksum === undefined) pending++;
    else if (checksum !== f.checksum) changed++;
  }
  return { current: pending === 0 && changed === 0, pending, changed };
}
