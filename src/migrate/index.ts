// Migration engine: numbered SQL files, a hash-chained tracking table, an advisory-locked runner,
// hooks and checks, validation against a scratch database, and a lint on the real PostgreSQL parser.
export { migrate, migrationStatus, MIGRATION_LOCK_KEY, type MigrateOptions, type AppliedMigration, type MigrationState } from './runner.ts';
export { readMigrations, readMigrationSet, type MigrationFile, type MigrationSet, type HookSource, type HookPhase } from './migrationFiles.ts';
export { checksumOf, normalizeSql } from './checksum.ts';
export { splitStatements, type Statement } from './splitStatements.ts';
export { migrationCurrency, type MigrationCurrency } from './pending.ts';
export type { HookContext, HookModule } from './hooks.ts';
export type { LockPolicy } from './lockRetry.ts';
export { repairMigration, type RepairResult } from './repair.ts';
export { validateMigrations, type ValidationReport, type FailedCheck } from './validate.ts';
export { catalogSnapshot, diffSnapshots, type CatalogSnapshot, type SnapshotDifference } from './catalogSnapshot.ts';
export { planMigrations, formatPlan, type MigrationPlan, type PlannedMigration } from './plan.ts';
export { newMigration, migrationTemplate } from './template.ts';
export { lintSql, lintFiles, lintMigrations, formatFinding, type LintFinding } from './lint/lint.ts';
export { RULES as LINT_RULES, type RuleId as LintRuleId } from './lint/rules.ts';
