// Reads numbered SQL migrations from a folder: NNNN_name.sql, checksummed.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PgpressError } from '../errors/index.ts';

/** A migration file on disk. */
export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  path: string;
  sql: string;
  checksum: string;
}

const FILE_PATTERN = /^(\d{4,})_([a-z0-9][a-z0-9_]*)\.sql$/;

/** sha256 of a migration's text, hex. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** Lists the migrations in dir, ordered by version; rejects bad names and duplicate versions. */
export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new PgpressError('PGP_CONFIG_INVALID', `Cannot read the migrations folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const files: MigrationFile[] = [];
  for (const file of names.filter((n) => n.endsWith('.sql')).sort()) {
    const m = FILE_PATTERN.exec(file);
    if (!m) {
      throw new PgpressError('PGP_VALIDATION', `Migration file ${file} must be named NNNN_lower_snake_name.sql (e.g. 0003_add_comments.sql).`);
    }
    const path = join(dir, file);
    const sql = await readFile(path, 'utf8');
    files.push({ version: Number(m[1]), name: m[2]!, file, path, sql, checksum: checksumOf(sql) });
  }
  files.sort((a, b) => a.version - b.version);
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.version === files[i - 1]!.version) {
      throw new PgpressError('PGP_VALIDATION', `Migrations ${files[i - 1]!.file} and ${files[i]!.file} share version ${files[i]!.version}.`);
    }
  }
  return files;
}
