// The statements that cost the most in total, from pg_stat_statements, when it is there.
import type pg from 'pg';

/** A normalised statement and what it has cost since pg_stat_statements was reset. */
export interface StatementStats {
  queryid: string;
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
  /** Share of its blocks read from disk rather than found in shared_buffers. */
  readShare: number;
}

/** The top statements, or why the section is absent. */
export type StatementsResult = { available: true; statements: StatementStats[] } | { available: false; reason: string };

const TOP_STATEMENTS = `
  SELECT queryid::text AS queryid, query, calls::float8 AS calls, total_exec_time AS total_ms,
         mean_exec_time AS mean_ms, rows::float8 AS rows,
         shared_blks_read::float8 / nullif(shared_blks_read + shared_blks_hit, 0) AS read_share
    FROM pg_stat_statements
   WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND toplevel
     -- the advisor's own questions and EXPLAINs are not the workload
     AND query !~* '^\\s*(explain|prepare|deallocate|begin|commit|rollback|set|show)\\b'
     AND query !~* 'pg_stat_statements|hypopg_'
   ORDER BY total_exec_time DESC
   LIMIT $1`;

/** Top `limit` statements of the current database by total execution time. */
export async function topStatements(c: pg.Client, limit: number): Promise<StatementsResult> {
  const ext = await c.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'");
  if (ext.rows.length === 0) {
    return { available: false, reason: "the pg_stat_statements extension is not created in this database: add pg_stat_statements to shared_preload_libraries, restart, then CREATE EXTENSION pg_stat_statements" };
  }
  try {
    const { rows } = await c.query<{ queryid: string; query: string; calls: number; total_ms: number; mean_ms: number; rows: number; read_share: number | null }>(TOP_STATEMENTS, [limit]);
    return {
      available: true,
      statements: rows.map((r) => ({ queryid: r.queryid, query: r.query, calls: r.calls, totalMs: r.total_ms, meanMs: r.mean_ms, rows: r.rows, readShare: r.read_share ?? 0 })),
    };
  } catch (e) {
    // 55000: created but not loaded (shared_preload_libraries lacks it).
    return { available: false, reason: `pg_stat_statements cannot be read: ${(e as Error).message}` };
  }
}
