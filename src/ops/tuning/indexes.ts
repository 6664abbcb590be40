// Indexes that cost writes and space for nothing: never scanned since the statistics were reset,
// or made redundant by another index on the same table that starts with the same columns.
// Indexes that enforce something (primary key, unique, exclusion, a constraint's index) are never
// reported: dropping them changes what the data may be, whatever their scan count.
import type pg from 'pg';

/** An index no query has scanned in the statistics' window. */
export interface UnusedIndex {
  index: string;
  table: string;
  bytes: number;
  /** Whether the window is at least the bound asked for: a shorter one may miss a monthly job. */
  conclusive: boolean;
  sql: string;
}

/** An index whose key columns are the leading columns of another's (or the same). */
export interface RedundantIndex {
  index: string;
  coveredBy: string;
  table: string;
  bytes: number;
  definition: string;
  coveredByDefinition: string;
  sql: string;
}

/** The two index lists and the statistics' window they rest on. */
export interface IndexReport {
  /** Seconds since the statistics were reset (or the server started, when never reset). */
  statsWindowSeconds: number;
  unused: UnusedIndex[];
  redundant: RedundantIndex[];
}

// `stats_reset` is NULL until someone resets the statistics; the server's start is then a lower
// bound of the window (PostgreSQL 15 keeps statistics across a clean restart, so it may be longer).
const STATS_WINDOW = `
  SELECT extract(epoch FROM now() - coalesce(stats_reset, pg_postmaster_start_time()))::float8 AS seconds
    FROM pg_stat_database WHERE datname = current_database()`;

// An index "enforces something" when it backs a constraint or is unique/primary/exclusion.
const INDEXES = `
  SELECT i.indexrelid::regclass::text AS index, i.indrelid::regclass::text AS table,
         pg_relation_size(i.indexrelid)::float8 AS bytes, s.idx_scan::float8 AS scans,
         (i.indisprimary OR i.indisunique OR i.indisexclusion
           OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)) AS enforces,
         i.indisvalid AS valid, am.amname AS am, i.indnkeyatts AS nkeys,
         string_to_array(i.indkey::text, ' ')::int[] AS keys,
         string_to_array(i.indclass::text, ' ')::oid[]::text[] AS classes,
         string_to_array(i.indoption::text, ' ')::int[] AS options,
         coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
         coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred,
         pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i
    JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
   ORDER BY 2, 1`;

interface IndexRow {
  index: string;
  table: string;
  bytes: number;
  scans: number;
  enforces: boolean;
  valid: boolean;
  am: string;
  nkeys: number;
  keys: number[];
  classes: string[];
  options: number[];
  exprs: string;
  pred: string;
  definition: string;
}

/** True when a's key columns (with their operator classes and orders) lead b's, on the same
 *  table, method, expressions and predicate: every search a serves, b serves too. */
export function isPrefixOf(a: Pick<IndexRow, 'table' | 'am' | 'nkeys' | 'keys' | 'classes' | 'options' | 'exprs' | 'pred'>, b: typeof a): boolean {
  if (a.table !== b.table || a.am !== b.am || a.pred !== b.pred || a.exprs !== b.exprs || a.nkeys > b.nkeys) return false;
  // Only btree's order makes a prefix usable on its own; other methods must match exactly.
  if (a.am !== 'btree' && a.nkeys !== b.nkeys) return false;
  for (let k = 0; k < a.nkeys; k++) {
    if (a.keys[k] !== b.keys[k] || a.classes[k] !== b.classes[k] || a.options[k] !== b.options[k]) return false;
  }
  return true;
}

const dropSql = (index: string): string => `DROP INDEX CONCURRENTLY IF EXISTS ${index}`;

/** Unused and redundant indexes of the current database. `minWindowSeconds`: the statistics'
 *  window below which an unused index is reported as not conclusive. */
export async function indexReport(c: pg.Client, minWindowSeconds: number): Promise<IndexReport> {
  const window = (await c.query<{ seconds: number }>(STATS_WINDOW)).rows[0]?.seconds ?? 0;
  const rows = (await c.query<IndexRow>(INDEXES)).rows;
  const unused = rows
    .filter((r) => r.scans === 0 && !r.enforces && r.valid)
    // regclass::text is already quoted where it must be: it goes into the statement as it is.
    .map((r) => ({ index: r.index, table: r.table, bytes: r.bytes, conclusive: window >= minWindowSeconds, sql: dropSql(r.index) }));
  const redundant: RedundantIndex[] = [];
  for (const a of rows) {
    if (a.enforces || !a.valid) continue;
    // An exact twin is covered by the other one only once: the one that sorts later is reported.
    const cover = rows.find((b) => b !== a && b.valid && isPrefixOf(a, b) && (b.nkeys > a.nkeys || b.enforces || !isPrefixOf(b, a) || b.index < a.index));
    if (cover) {
      redundant.push({ index: a.index, coveredBy: cover.index, table: a.table, bytes: a.bytes, definition: a.definition, coveredByDefinition: cover.definition, sql: dropSql(a.index) });
    }
  }
  return { statsWindowSeconds: window, unused, redundant };
}
