// `migrate up --dry-run`: what a run would apply, statement by statement, read without touching anything.
import { readMigrationSet, type HookPhase } from './migrationFiles.ts';
import { assertNoDrift, connectMigrator, pendingOf } from './runner.ts';
import { splitStatements, type Statement } from './splitStatements.ts';
import { readTracking, trackingExists } from './trackingTable.ts';

/** One migration a run would apply. */
export interface PlannedMigration {
  version: number;
  file: string;
  transactional: boolean;
  /** Companion files per phase, in the order they would run. */
  hooks: Partial<Record<HookPhase, string[]>>;
  statements: Statement[];
}

/** The plan of a run: per-run hooks and the pending migrations up to `to`. */
export interface MigrationPlan {
  beforeAll: string | null;
  afterAll: string | null;
  migrations: PlannedMigration[];
}

/** Reads the tracking table (never creates it, takes no lock) and lists what `migrate up` would do. */
export async function planMigrations(opts: { url: string; dir: string; to?: number }): Promise<MigrationPlan> {
  const set = await readMigrationSet(opts.dir);
  const client = await connectMigrator(opts.url);
  try {
    const rows = (await trackingExists(client)) ? await readTracking(client) : [];
    assertNoDrift(set.migrations, rows);
    const pending = pendingOf(set.migrations, rows, opts.to);
    const any = pending.length > 0;
    return {
      beforeAll: any ? (set.beforeAll?.file ?? null) : null,
      afterAll: any ? (set.afterAll?.file ?? null) : null,
      migrations: pending.map((f) => {
        const hooks: Partial<Record<HookPhase, string[]>> = {};
        for (const phase of ['precheck', 'pre', 'post', 'check'] as const) {
          if (f.hooks[phase].length > 0) hooks[phase] = f.hooks[phase].map((h) => h.file);
        }
        return { version: f.version, file: f.file, transactional: f.transactional, hooks, statements: splitStatements(f.sql) };
      }),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The plan as text for a terminal. */
export function formatPlan(plan: MigrationPlan): string {
  if (plan.migrations.length === 0) return 'Nothing to apply: the database is current.';
  const out: string[] = [`Would apply ${plan.migrations.length} migration(s) (dry run: nothing was changed):`];
  if (plan.beforeAll) out.push(`  run hook ${plan.beforeAll}`);
  for (const m of plan.migrations) {
    out.push(`  ${m.file}${m.transactional ? '' : '  [no-transaction: statement by statement]'}`);
    for (const [phase, files] of Object.entries(m.hooks)) out.push(`    ${phase}: ${files.join(', ')}`);
    for (const s of m.statements) out.push(`    -- line ${s.line}\n    ${s.text.split('\n').join('\n    ')};`);
  }
  if (plan.afterAll) out.push(`  run hook ${plan.afterAll}`);
  return out.join('\n');
}
