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
