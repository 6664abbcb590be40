// Which tool backs up: BACKUP_TOOL=builtin|pgbackrest as set; auto picks pgBackRest once pgpress has
// configured it for BACKUP_DIR (installed AND configured), the built-in path otherwise.
import { existsSync } from 'node:fs';
import { archivesWithPgbackrest, pgbackrestBinary, pgbackrestConfig } from './pgbackrest.ts';

/** The two backup paths. */
export type BackupTool = 'builtin' | 'pgbackrest';

/** For `backup`: auto → pgBackRest when the server archives through pgpress's pgBackRest configuration. */
export async function toolForBackup(setting: 'auto' | BackupTool, databaseUrl: string, backupDir: string): Promise<BackupTool> {
  if (setting !== 'auto') return setting;
  return (await archivesWithPgbackrest(databaseUrl, backupDir)) ? 'pgbackrest' : 'builtin';
}

/** For `restore` and `verify` (no server needed): auto → pgBackRest when BACKUP_DIR holds its configuration. */
export function toolForRestore(setting: 'auto' | BackupTool, backupDir: string): BackupTool {
  if (setting !== 'auto') return setting;
  return pgbackrestBinary() !== undefined && existsSync(pgbackrestConfig(backupDir)) ? 'pgbackrest' : 'builtin';
}
