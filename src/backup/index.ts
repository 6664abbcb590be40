// Backup and restore: WAL archiving, base backups, point-in-time restore, verify, dump and load.
export { archiveSettings, archiveCommand, configureArchiving, prepareBackupDir, restoreCommand, waitForArchived, walDir } from './archiving.ts';
export { takeBackup, type BackupOptions, type BackupSummary } from './takeBackup.ts';
export { restoreBackup, type RestoreOptions, type RestoredServer } from './restoreBackup.ts';
export { verifyBackup, type VerifyReport } from './verifyBackup.ts';
export { listBackups, pickBackup, type Manifest, type TableFigure } from './manifest.ts';
export { dumpDatabase, loadDatabase } from './logical.ts';
export { configurePgbackrest, pgbackrestBackup, pgbackrestRestore, type PgbackrestSummary } from './pgbackrest.ts';
export { pgbackrestVerify } from './pgbackrestVerify.ts';
export { pruneBackups, type PruneResult } from './prune.ts';
