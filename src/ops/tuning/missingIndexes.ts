// Missing-index candidates: a costly statement whose plan reads a big table by sequential scan
// and keeps few of its rows through a filter on plain columns. The candidate is a btree on the
// filter's equality columns, then one range column; with HypoPG it is tried as a hypothetical
// index (nothing is built) and the plan's estimated cost before and after is reported.
import type pg from 'pg';
import { quoteIdent } from '../../db/sql.ts';
import { genericPlan, planNodes, type PlanNode } from './genericPlan.ts';

/** A column the filter compares, with how. */
export interface FilterColumn {
  column: string;
  kind: 'equality' | 'range';
}

/** A candidate index for one statement, with HypoPG's verdict when it was available. */
export interface IndexCandidate {
  table: string;
  columns: string[];
  name: string;
  /** CREATE INDEX CONCURRENTLY IF NOT EXISTS …; never run by the advisor. */
  sql: string;
  queryid: string;
  query: string;
  /** The filter the sequential scan applied, as EXPLAIN shows it. */
  filter: string;
  tableRows: number;
  /** The planner's estimate of the rows the filter keeps. */
  estimatedRows: number;
  seqScans: number;
  seqTupRead: number;
  hypothetical: { tested: true; costBefore: number; costAfter: number; usesIndex: boolean } | { tested: false; reason: string };
  /** Worth writing as a migration: HypoPG saw the plan use it and cost less than half, or (without
   *  HypoPG) the filter keeps under 1 % of a big table. */
  recommended: boolean;
}

const COMPARISON = /\(\s*([a-z_][a-z0-9_$]*)\s*(=|<>|<=|>=|<|>|~~)\s*/g;
const ANY_ARRAY = /\(\s*([a-z_][a-z0-9_$]*)\s*=\s*ANY\s*\(/g;
const IS_NULL = /\(\s*([a-z_][a-z0-9_$]*)\s+IS\s+NULL\)/g;

/** Columns of `columns` a filter compares: equalities (incl. = ANY, IS NULL) first, in order of
 *  appearance, then at most one range comparison. Expressions, casts of columns and OR-ed filters
 *  give nothing: a plain btree would not serve them. */
export function filterColumns(filter: string, columns: ReadonlySet<string>): FilterColumn[] {
  if (/\bOR\b/.test(filter)) return [];
  const eqAt: { col: string; at: number }[] = [];
  const range: string[] = [];
  for (const re of [ANY_ARRAY, IS_NULL]) for (const m of filter.matchAll(re)) if (columns.has(m[1]!)) eqAt.push({ col: m[1]!, at: m.index });
  for (const m of filter.matchAll(COMPARISON)) {
    const [col, op] = [m[1]!, m[2]!];
    if (!columns.has(col)) continue;
    if (op === '=') eqAt.push({ col, at: m.index });
    else if (op !== '<>' && op !== '~~' && !range.includes(col)) range.push(col);
  }
  const eq = [...new Set(eqAt.sort((a, b) => a.at - b.at).map((e) => e.col))];
  return [...eq.map((column) => ({ column, kind: 'equality' as const })), ...range.filter((c) => !eq.includes(c)).slice(0, 1).map((column) => ({ column, kind: 'range' as const }))];
}

const SORT_KEY = /^(?:[a-z_][a-z0-9_$]*\.)?([a-z_][a-z0-9_$]*)( DESC)?$/;

/** Columns of a Sort node's keys an index may append after the equality columns, so the rows come
 *  out in order and a LIMIT stops early: plain columns of the table, all in one direction (a btree
 *  reads backwards for DESC), none with an explicit NULLS order. Empty when any key is not. */
export function sortColumns(sortKey: readonly string[] | undefined, columns: ReadonlySet<string>): string[] {
  if (!sortKey || sortKey.length === 0) return [];
  const keys = sortKey.map((k) => SORT_KEY.exec(k.trim()));
  if (keys.some((m) => !m || !columns.has(m[1]!))) return [];
  if (new Set(keys.map((m) => Boolean(m![2]))).size > 1) return [];
  return keys.map((m) => m![1]!);
}

/** A name for the index within PostgreSQL's 63 bytes. */
export function indexName(table: string, columns: readonly string[]): string {
  return `${`${table}_${columns.join('_')}`.slice(0, 59)}_idx`;
}

/** The statement that builds the candidate: concurrent, and a no-op when it exists. */
export function createIndexSql(table: string, columns: readonly string[], name: string): string {
  return `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quoteIdent(name)} ON ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')})`;
}

interface TableInfo { columns: Set<string>; rows: number; seqScans: number; seqTupRead: number; indexes: string[][] }

const TABLE_INFO = `
  SELECT c.reltuples::float8 AS rows, coalesce(s.seq_scan, 0)::float8 AS seq_scans, coalesce(s.seq_tup_read, 0)::float8 AS seq_tup_read,
         (SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) AS columns,
         (SELECT coalesce(json_agg((SELECT array_agg(a.attname::text ORDER BY k.n)
                                      FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                     WHERE k.n <= i.indnkeyatts)), '[]')
            FROM pg_index i WHERE i.indrelid = c.oid AND i.indisvalid AND i.indpred IS NULL) AS indexes
    FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
   WHERE c.oid = to_regclass($1)`;

async function tableInfo(c: pg.Client, table: string): Promise<TableInfo | undefined> {
  const { rows } = await c.query<{ rows: number; seq_scans: number; seq_tup_read: number; columns: string[]; indexes: (string[] | null)[] }>(TABLE_INFO, [quoteIdent(table)]);
  const r = rows[0];
  if (!r) return undefined;
  return { columns: new Set(r.columns), rows: r.rows, seqScans: r.seq_scans, seqTupRead: r.seq_tup_read, indexes: r.indexes.map((x) => x ?? []) };
}

/** Options: the smallest table worth an index, and whether HypoPG may be used. */
export interface CandidateOptions {
  minTableRows: number;
  serverVersionNum: number;
  hypopg: { installed: true } | { installed: false; reason: string };
}

/** Candidates for one statement's plan: one per sequential scan with a usable, selective filter
 *  on a table of at least minTableRows rows that no index already leads with those columns. */
export async function candidatesFor(c: pg.Client, stmt: { queryid: string; query: string }, plan: PlanNode, opts: CandidateOptions): Promise<IndexCandidate[]> {
  const out: IndexCandidate[] = [];
  const parents = new Map<PlanNode, PlanNode>();
  for (const n of planNodes(plan)) for (const child of n.Plans ?? []) parents.set(child, n);
  for (const node of planNodes(plan)) {
    if (node['Node Type'] !== 'Seq Scan' || !node.Filter || !node['Relation Name']) continue;
    const table = node['Relation Name'];
    const info = await tableInfo(c, table);
    if (!info || info.rows < opts.minTableRows || node['Plan Rows'] / info.rows > 0.05) continue;
    const filtered = filterColumns(node.Filter, info.columns);
    if (filtered.length === 0) continue;
    const columns = filtered.map((f) => f.column);
    // An index already leads with the filter's columns: the planner chose not to use it, another index will not help.
    if (info.indexes.some((ix) => columns.every((col, k) => ix[k] === col))) continue;
    // A sort right above the scan (top-N under a LIMIT): its keys after the equalities serve it too.
    const parent = parents.get(node);
    if (parent?.['Node Type'] === 'Sort' && filtered.every((f) => f.kind === 'equality')) {
      for (const col of sortColumns(parent['Sort Key'], info.columns)) if (!columns.includes(col)) columns.push(col);
    }
    const name = indexName(table, columns);
    const sql = createIndexSql(table, columns, name);
    const hypothetical = opts.hypopg.installed ? await tryHypothetical(c, stmt.query, plan, table, columns, opts.serverVersionNum) : { tested: false as const, reason: opts.hypopg.reason };
    const recommended = hypothetical.tested ? hypothetical.usesIndex && hypothetical.costAfter < hypothetical.costBefore / 2 : node['Plan Rows'] / info.rows < 0.01;
    out.push({
      table, columns, name, sql, queryid: stmt.queryid, query: stmt.query, filter: node.Filter, tableRows: info.rows, estimatedRows: node['Plan Rows'],
      seqScans: info.seqScans, seqTupRead: info.seqTupRead, hypothetical, recommended,
    });
  }
  return out;
}

/** Plans the statement again with a hypothetical index (session-local, never built) and drops it. */
async function tryHypothetical(c: pg.Client, query: string, before: PlanNode, table: string, columns: readonly string[], serverVersionNum: number): Promise<IndexCandidate['hypothetical']> {
  // hypopg_create_index takes the CREATE INDEX text as a value: no CONCURRENTLY, no name (it names it).
  let rows: { indexname: string }[];
  try {
    ({ rows } = await c.query<{ indexname: string }>('SELECT indexname FROM hypopg_create_index($1)', [`CREATE INDEX ON ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')})`]));
  } catch (e) {
    return { tested: false, reason: `HypoPG refused the hypothetical index: ${(e as Error).message}` };
  }
  try {
    const after = await genericPlan(c, query, serverVersionNum);
    if (!after.ok) return { tested: false, reason: after.reason };
    const hypoName = rows[0]!.indexname;
    const usesIndex = planNodes(after.plan).some((n) => n['Index Name'] === hypoName);
    return { tested: true, costBefore: before['Total Cost'], costAfter: after.plan['Total Cost'], usesIndex };
  } finally {
    await c.query('SELECT hypopg_reset()');
  }
}
