// Migration engine: numbered SQL files, a tracking table, an advisory-locked runner.
export { migrate, migrationStatus, MIGRATION_LOCK_KEY, type MigrateOptions, type AppliedMigration, type MigrationState } from './runner.ts';
export { readMigrations, checksumOf, type MigrationFile } from './migrationFiles.ts';
export { splitStatements, type Statement } from './splitStatements.ts';
export { migrationCurrency, type MigrationCurrency } from './pending.ts';
