// Reads the migrations folder: NNNN_name.sql files, their companion hooks and checks, per-run hooks.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PgpressError } from '../errors/index.ts';
import { checksumOf } from './checksum.ts';

/** Where a hook or check comes from: a SQL file, or a function exported by a `.hooks.ts` module. */
export type HookSource = { kind: 'sql'; file: string; path: string; sql: string } | { kind: 'ts'; file: string; path: string; exportName: HookPhase };

/** When a companion runs: precheck → pre → migration → post → check (all before COMMIT). */
export type HookPhase = 'precheck' | 'pre' | 'post' | 'check';

/** A migration file on disk, with its companions. */
export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  path: string;
  sql: string;
  /** Normalised sha256 of the migration and its SQL pre/post hooks (see checksum.ts). */
  checksum: string;
  /** False when the first line is `-- pgpress:no-transaction` (run statement by statement). */
  transactional: boolean;
  hooks: Record<HookPhase, HookSource[]>;
}

/** Everything in a migrations folder. */
export interface MigrationSet {
  migrations: MigrationFile[];
  /** `_before_all.sql` / `_after_all.sql`: run once per run that applies anything. */
  beforeAll: HookSource | null;
  afterAll: HookSource | null;
}

/** First-line directive that marks a migration non-transactional. */
export const NO_TRANSACTION_DIRECTIVE = /^\uFEFF?\s*--\s*pgpress:no-transaction\b/;

const MIGRATION = /^(\d{4,})_([a-z0-9][a-z0-9_]*)\.sql$/;
const SQL_COMPANION = /^(\d{4,})_([a-z0-9][a-z0-9_]*)\.(pre|post|precheck|check)\.sql$/;
const TS_COMPANION = /^(\d{4,})_([a-z0-9][a-z0-9_]*)\.hooks\.ts$/;
const PHASES: readonly HookPhase[] = ['precheck', 'pre', 'post', 'check'];

/** Lists the migrations in dir, ordered by version; rejects bad names and duplicate versions. */
export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  return (await readMigrationSet(dir)).migrations;
}

/** Reads migrations, companions (`NNNN_x.{pre,post,precheck,check}.sql`, `NNNN_x.hooks.ts`) and per-run hooks. */
export async function readMigrationSet(dir: string): Promise<MigrationSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    throw new PgpressError('PGP_CONFIG_INVALID', `Cannot read the migrations folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const migrations: MigrationFile[] = [];
  const companions: { base: string; source: HookSource; phase: HookPhase }[] = [];
  let beforeAll: HookSource | null = null;
  let afterAll: HookSource | null = null;
  for (const file of names) {
    const path = join(dir, file);
    let m: RegExpExecArray | null;
    if (file === '_before_all.sql' || file === '_after_all.sql') {
      const source: HookSource = { kind: 'sql', file, path, sql: await readFile(path, 'utf8') };
      if (file === '_before_all.sql') beforeAll = source;
      else afterAll = source;
    } else if ((m = SQL_COMPANION.exec(file))) {
      companions.push({ base: `${m[1]}_${m[2]}`, phase: m[3] as HookPhase, source: { kind: 'sql', file, path, sql: await readFile(path, 'utf8') } });
    } else if ((m = TS_COMPANION.exec(file))) {
      for (const phase of PHASES) companions.push({ base: `${m[1]}_${m[2]}`, phase, source: { kind: 'ts', file, path, exportName: phase } });
    } else if ((m = MIGRATION.exec(file))) {
      const sql = await readFile(path, 'utf8');
      const transactional = !NO_TRANSACTION_DIRECTIVE.test(sql);
      migrations.push({ version: Number(m[1]), name: m[2]!, file, path, sql, checksum: '', transactional, hooks: { precheck: [], pre: [], post: [], check: [] } });
    } else if (file.endsWith('.sql') || /^\d{4,}_.*\.[cm]?[jt]s$/.test(file)) {
      throw new PgpressError(
        'PGP_VALIDATION',
        `Migration file ${file} must be named NNNN_lower_snake_name.sql (e.g. 0003_add_comments.sql), or be a companion NNNN_name.{pre,post,precheck,check}.sql, NNNN_name.hooks.ts, _before_all.sql or _after_all.sql.`,
      );
    }
  }
  const byBase = new Map(migrations.map((f) => [f.file.slice(0, -'.sql'.length), f]));
  for (const c of companions) {
    const owner = byBase.get(c.base);
    if (!owner) throw new PgpressError('PGP_VALIDATION', `${c.source.file} belongs to no migration: ${c.base}.sql is not in ${dir}.`);
    // SQL before TypeScript within a phase, so a TS check can rely on what the SQL hook set up.
    owner.hooks[c.phase].push(c.source);
    owner.hooks[c.phase].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'sql' ? -1 : 1));
  }
  for (const f of migrations) f.checksum = migrationChecksum(f);
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new PgpressError('PGP_VALIDATION', `Migrations ${migrations[i - 1]!.file} and ${migrations[i]!.file} share version ${migrations[i]!.version}.`);
    }
  }
  return { migrations, beforeAll, afterAll };
}

/** The checksum covers the migration and its SQL pre/post hooks (they change data); checks may evolve freely. */
function migrationChecksum(f: MigrationFile): string {
  const parts = [f.sql];
  for (const phase of ['pre', 'post'] as const) {
    for (const h of f.hooks[phase]) if (h.kind === 'sql') parts.push(`${phase}:${h.sql}`);
  }
  return checksumOf(parts, f.transactional ? [] : ['no-transaction']);
}
