// `pgpress tune`'s library function: reads statistics and plans, asks HypoPG about candidate
// indexes, compares settings with the machine, and at most writes migration files. It changes
// nothing in the database: plans are EXPLAINed (never run) in read-only transactions that are
// rolled back, and hypothetical indexes live only in its own session.
import pg from 'pg';
import { genericPlan, type PlanNode } from './genericPlan.ts';
import { indexReport, type IndexReport } from './indexes.ts';
import { writeIndexMigration } from './indexMigration.ts';
import { localMachine } from './machine.ts';
import { candidatesFor, type CandidateOptions, type IndexCandidate } from './missingIndexes.ts';
import { seqScanTables, type SeqScanTable } from './seqScans.ts';
import { busiestTables, currentSettings } from './serverSettings.ts';
import { adviseSettings, autovacuumAdvice, type AutovacuumAdvice, type Machine, type SettingAdvice } from './settingsAdvice.ts';
import { topStatements, type StatementStats } from './statements.ts';

/** What to look at and where to write. */
export interface TuneOptions {
  url: string;
  /** Statements to report, by total time (default 10). */
  top?: number;
  /** The machine PostgreSQL runs on (default: this one). */
  machine?: Machine;
  /** Statistics window under which an unused index is not conclusive (default 7 days). */
  minStatsWindowSeconds?: number;
  /** Smallest table a missing index is suggested for (default 10 000 rows). */
  minTableRows?: number;
  /** Write each recommended index as the next migration in this folder. */
  writeMigrationsTo?: string;
}

/** A top statement with its generic plan (or why there is none). */
export interface StatementReport extends StatementStats {
  plan: { method: 'generic_plan' | 'prepared_generic'; totalCost: number; text: string } | { unavailable: string };
}

/** Everything the advisor found; sections it could not fill say why. */
export interface TuneReport {
  serverVersionNum: number;
  statements: { available: true; items: StatementReport[] } | { available: false; reason: string };
  indexes: IndexReport;
  /** Big tables read more often by sequential than by index scans (pg_stat_user_tables; always there). */
  seqScanTables: SeqScanTable[];
  missingIndexes: { available: true; candidates: IndexCandidate[]; hypopg: CandidateOptions['hypopg'] } | { available: false; reason: string };
  machine: Machine;
  settings: SettingAdvice[];
  autovacuum: AutovacuumAdvice[];
  /** Migration files written (only with writeMigrationsTo). */
  migrationsWritten: string[];
}

/** A compact one-line-per-node rendering of a plan. */
export function planText(node: PlanNode, depth = 0): string {
  const what = [node['Node Type'], node['Index Name'] ? `using ${node['Index Name']}` : '', node['Relation Name'] ? `on ${node['Relation Name']}` : ''].filter(Boolean).join(' ');
  const filter = node.Filter ? ` filter ${node.Filter}` : '';
  const line = `${'  '.repeat(depth)}${what} (cost ${node['Total Cost']}, rows ${node['Plan Rows']})${filter}`;
  return [line, ...(node.Plans ?? []).map((p) => planText(p, depth + 1))].join('\n');
}

async function hypopgState(c: pg.Client): Promise<CandidateOptions['hypopg']> {
  const { rows } = await c.query("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'");
  if (rows.length > 0) return { installed: true };
  return { installed: false, reason: 'the hypopg extension is not created in this database (Debian: apt-get install postgresql-15-hypopg, then CREATE EXTENSION hypopg)' };
}

/** Runs the advisor against the database at opts.url. */
export async function tune(opts: TuneOptions): Promise<TuneReport> {
  const c = new pg.Client({ connectionString: opts.url, application_name: 'pgpress tune' });
  await c.connect();
  try {
    const serverVersionNum = Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v);
    const machine = opts.machine ?? localMachine();
    const { settings: current, autovacuum: serverAutovacuum } = await currentSettings(c);
    const report: TuneReport = {
      serverVersionNum,
      statements: { available: false, reason: '' },
      indexes: await indexReport(c, opts.minStatsWindowSeconds ?? 7 * 86_400),
      seqScanTables: await seqScanTables(c, opts.minTableRows ?? 10_000, 10),
      missingIndexes: { available: false, reason: '' },
      machine,
      settings: adviseSettings(machine, current),
      autovacuum: autovacuumAdvice(await busiestTables(c, 5), serverAutovacuum),
      migrationsWritten: [],
    };
    const top = await topStatements(c, opts.top ?? 10);
    if (!top.available) {
      report.statements = top;
      report.missingIndexes = { available: false, reason: `it reads the plans of the top statements: ${top.reason}` };
      return report;
    }
    const hypopg = await hypopgState(c);
    const items: StatementReport[] = [];
    const candidates: IndexCandidate[] = [];
    for (const s of top.statements) {
      const plan = await genericPlan(c, s.query, serverVersionNum);
      if (!plan.ok) {
        items.push({ ...s, plan: { unavailable: plan.reason } });
        continue;
      }
      items.push({ ...s, plan: { method: plan.method, totalCost: plan.plan['Total Cost'], text: planText(plan.plan) } });
      for (const cand of await candidatesFor(c, s, plan.plan, { minTableRows: opts.minTableRows ?? 10_000, serverVersionNum, hypopg })) {
        // Two statements may want the same index: keep it once (for the costliest statement, seen first).
        if (!candidates.some((x) => x.name === cand.name)) candidates.push(cand);
      }
    }
    report.statements = { available: true, items };
    report.missingIndexes = { available: true, candidates, hypopg };
    if (opts.writeMigrationsTo) {
      for (const cand of candidates.filter((x) => x.recommended)) report.migrationsWritten.push(await writeIndexMigration(opts.writeMigrationsTo, cand));
    }
    return report;
  } finally {
    await c.end().catch(() => undefined);
  }
}
