// Tables read mostly by sequential scans, from pg_stat_user_tables: where missing indexes are
// likely, even without pg_stat_statements to name the statements.
import type pg from 'pg';

/** A big table and how it has been read since the statistics were reset. */
export interface SeqScanTable {
  table: string;
  liveRows: number;
  seqScans: number;
  seqRowsRead: number;
  indexScans: number;
  /** Rows a sequential scan read on average: near liveRows means whole-table reads. */
  rowsPerSeqScan: number;
}

// More sequential scans than index scans, on tables of at least $1 rows, by rows read that way.
const SEQ_SCAN_TABLES = `
  SELECT relname::text AS table, n_live_tup::float8 AS live_rows, seq_scan::float8 AS seq_scans,
         seq_tup_read::float8 AS seq_rows_read, coalesce(idx_scan, 0)::float8 AS index_scans
    FROM pg_stat_user_tables
   WHERE n_live_tup >= $1 AND seq_scan > coalesce(idx_scan, 0)
   ORDER BY seq_tup_read DESC
   LIMIT $2`;

/** Up to `limit` tables of at least minRows rows read more often by sequential than by index scans. */
export async function seqScanTables(c: pg.Client, minRows: number, limit: number): Promise<SeqScanTable[]> {
  const { rows } = await c.query<{ table: string; live_rows: number; seq_scans: number; seq_rows_read: number; index_scans: number }>(SEQ_SCAN_TABLES, [minRows, limit]);
  return rows.map((r) => ({
    table: r.table, liveRows: r.live_rows, seqScans: r.seq_scans, seqRowsRead: r.seq_rows_read, indexScans: r.index_scans,
    rowsPerSeqScan: r.seq_scans > 0 ? r.seq_rows_read / r.seq_scans : 0,
  }));
}
