// Reads EXPLAIN (FORMAT JSON) plans so tests can assert which index a query uses.
import type pg from 'pg';

/** One node of a plan, with the fields tests look at. */
export interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Heap Fetches'?: number;
  'Scan Direction'?: string;
  Plans?: PlanNode[];
}

/** The plan of `text` with `params` (bound, so the planner sees the values). ANALYZE runs it. */
export async function explain(c: pg.Client, text: string, params: unknown[] = [], analyze = false): Promise<PlanNode> {
  const { rows } = await c.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE' : ''}) ${text}`, params);
  return rows[0]!['QUERY PLAN'][0]!.Plan;
}

/** Every node of a plan, depth first. */
export function planNodes(p: PlanNode): PlanNode[] {
  return [p, ...(p.Plans ?? []).flatMap(planNodes)];
}

/** The nodes that use index `name`. */
export function usesIndex(p: PlanNode, name: string): PlanNode[] {
  return planNodes(p).filter((n) => n['Index Name'] === name);
}

/** A one-line summary of a plan, for assertion messages. */
export function summary(p: PlanNode): string {
  return planNodes(p).map((n) => `${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`).join(' > ');
}
