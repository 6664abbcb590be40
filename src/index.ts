// pgpress as a library.
export { createStore, type Store, type StoreOptions, type Readiness } from './store.ts';
export { loadSettings, type Settings } from './config/settings.ts';
export { PACKAGE_MIGRATIONS_DIR } from './config/packagePaths.ts';
export { Cluster, type ClusterOptions, type Queryable, type TxOptions, type TxResult } from './db/cluster.ts';
export { sql, quoteIdent, type NamedQuery } from './db/sql.ts';
export { discoverPatroniNodes, resolvePrimaryUrl } from './db/topology.ts';
export {
  migrate, migrationStatus, validateMigrations, repairMigration, planMigrations, lintMigrations, lintFiles, newMigration,
  type MigrateOptions, type MigrationState, type ValidationReport, type LintFinding, type MigrationPlan, type HookModule, type HookContext,
} from './migrate/index.ts';
export { startServer, type RunningServer } from './http/server.ts';
export { buildApp } from './http/app.ts';
export { ERROR_CATALOGUE, PgpressError, isPgpressError, type ErrorCode } from './errors/index.ts';
export type { Article, NewArticle, ArticleStatus } from './content/articles/repository.ts';
export type { User, NewUser } from './content/users/repository.ts';
export { KeyRing, resolveKeyRing } from './security/keyRing.ts';
export { rotateUserEmailKeys, type RotateOptions, type RotateReport } from './content/users/rotateKeys.ts';
