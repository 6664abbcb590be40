// Adopts a tracking table written by runner v1 (raw sha256 checksums, no hash chain), so a database
// migrated before the engine existed keeps working: its rows are re-recorded and chained once.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { rowHash } from './hashChain.ts';
import type { MigrationFile } from './migrationFiles.ts';
import { TRACKING_TABLE, type TrackingRow } from './trackingTable.ts';

/** Re-records one v1 row: normalised checksum and script, sealed into the hash chain. */
const ADOPT_ROW = `UPDATE ${TRACKING_TABLE} SET checksum = $2, script = $3, previous_hash = $4, row_hash = $5 WHERE version = $1`;

/**
 * Seals the rows of a table that had no hash chain column until this run (ensureTracking said so) into a
 * chain, upgrading each checksum that matches its file under v1's algorithm; a row whose file differs
 * keeps its old checksum and shows as drift. A table that already had the column is never adopted:
 * missing hashes there mean tampering. Run under the migration lock, in the transaction that evolved
 * the table, so a crash cannot leave the column added and the rows unsealed.
 */
export async function adoptLegacyRows(client: pg.Client, files: readonly MigrationFile[], rows: readonly TrackingRow[], log: (m: string) => void): Promise<TrackingRow[]> {
  if (rows.length === 0) return [...rows];
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const adopted: TrackingRow[] = [];
  let previous: string | null = null;
  for (const row of rows) {
    const file = byVersion.get(row.version);
    const matches = file !== undefined && createHash('sha256').update(file.sql, 'utf8').digest('hex') === row.checksum;
    const next: TrackingRow = { ...row, checksum: matches ? file.checksum : row.checksum, script: matches ? file.sql : row.script, previousHash: previous, rowHash: null };
    next.rowHash = rowHash(previous, next);
    await client.query(ADOPT_ROW, [
      row.version, next.checksum, next.script, next.previousHash, next.rowHash,
    ]);
    adopted.push(next);
    previous = next.rowHash;
  }
  log(`adopted ${rows.length} tracking row(s) recorded by runner v1: checksums normalised, hash chain sealed`);
  return adopted;
}
