// The plan of a normalised statement (pg_stat_statements' text, constants replaced by $1, $2 …),
// without running it and without sample values.
//  - PostgreSQL 16+: EXPLAIN (GENERIC_PLAN), made for exactly this.
//  - PostgreSQL 15: PREPARE the text and EXPLAIN EXECUTE it with NULL for every parameter under
//    plan_cache_mode = force_generic_plan. A generic plan is built without looking at parameter
//    values, so the NULLs are never folded into the plan: it is the plan GENERIC_PLAN would show,
//    the one a prepared statement gets after its first five executions. It is not the custom plan
//    a particular value may get (a skewed value can plan differently); the report says so.
import type pg from 'pg';
import { quoteIdent } from '../../db/sql.ts';

/** A node of EXPLAIN (FORMAT JSON)'s tree, as far as the advisor reads it. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Filter?: string;
  'Sort Key'?: string[];
  'Plan Rows': number;
  'Total Cost': number;
  Plans?: PlanNode[];
}

/** A plan, or why there is none. */
export type PlanResult = { ok: true; plan: PlanNode; method: 'generic_plan' | 'prepared_generic' } | { ok: false; reason: string };

/** Statements EXPLAIN accepts; utility statements (VACUUM, CREATE …) have no plan. */
const PLANNABLE = /^\s*(select|with|insert|update|delete|values|table|merge)\b/i;
const STATEMENT_NAME = 'pgpress_tune_plan';

/** The highest $n in the text: the parameters EXECUTE must be given. */
export function parameterCount(sql: string): number {
  let max = 0;
  for (const m of sql.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]));
  return max;
}

/** Every node of a plan, depth first. */
export function planNodes(root: PlanNode): PlanNode[] {
  return [root, ...(root.Plans ?? []).flatMap(planNodes)];
}

/** Plans `sql` on `c` (a session of its own: it prepares a statement and sets plan_cache_mode locally).
 *  Runs in a READ ONLY transaction that is rolled back: EXPLAIN without ANALYZE executes nothing. */
export async function genericPlan(c: pg.Client, sql: string, serverVersionNum: number): Promise<PlanResult> {
  if (!PLANNABLE.test(sql)) return { ok: false, reason: 'not a statement with a plan (utility command)' };
  // The text is SQL to plan, not a value: it goes in as statement text on purpose; nothing runs it.
  const explain = serverVersionNum >= 160000 ? `EXPLAIN (GENERIC_PLAN, FORMAT JSON) ${sql}` : null;
  await c.query("BEGIN READ ONLY; SET LOCAL statement_timeout = '10s'; SET LOCAL plan_cache_mode = force_generic_plan");
  try {
    if (explain) {
      const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(explain);
      return { ok: true, plan: rows[0]!['QUERY PLAN'][0].Plan, method: 'generic_plan' };
    }
    await c.query(`PREPARE ${quoteIdent(STATEMENT_NAME)} AS ${sql}`);
    const args = Array.from({ length: parameterCount(sql) }, () => 'NULL').join(', ');
    const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) EXECUTE ${quoteIdent(STATEMENT_NAME)}${args ? `(${args})` : ''}`);
    return { ok: true, plan: rows[0]!['QUERY PLAN'][0].Plan, method: 'prepared_generic' };
  } catch (e) {
    return { ok: false, reason: `cannot plan it: ${(e as Error).message}` };
  } finally {
    await c.query('ROLLBACK');
    // PREPARE outlives the transaction: drop it so the next statement (or a hypothetical index) plans afresh.
    if (!explain) await c.query(`DEALLOCATE ${quoteIdent(STATEMENT_NAME)}`).catch(() => undefined);
  }
}
