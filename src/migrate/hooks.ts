// Runs hooks and checks: SQL files statement by statement, or functions from a `.hooks.ts` module.
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import type { HookPhase, HookSource } from './migrationFiles.ts';
import { splitStatements } from './splitStatements.ts';

/** What a TypeScript hook receives: the runner's connection (inside the migration's transaction when it has one). */
export interface HookContext {
  migration: { version: number; name: string } | null;
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  log(message: string): void;
}

/** The shape of a `NNNN_name.hooks.ts` module: any of these exports, each throwing to fail. */
export type HookModule = Partial<Record<HookPhase, (ctx: HookContext) => Promise<void>>>;

/** Is this phase a check (queries that must return no rows) rather than a hook (statements to run)? */
export function isCheckPhase(phase: HookPhase | 'before_all' | 'after_all'): boolean {
  return phase === 'precheck' || phase === 'check';
}

/**
 * Runs one hook or check. SQL hooks run each statement; SQL checks fail when a statement returns a row
 * (each row is a violation). TS modules export functions per phase. Failures name the hook and line.
 */
export async function runHook(
  client: pg.Client,
  source: HookSource,
  phase: HookPhase | 'before_all' | 'after_all',
  migration: HookContext['migration'],
  log: (m: string) => void,
): Promise<void> {
  if (source.kind === 'ts') {
    const mod = (await importHookModule(source.path)) as HookModule;
    const fn = mod[source.exportName];
    if (fn === undefined) return;
    if (typeof fn !== 'function') throw hookError(source, phase, null, new Error(`export ${source.exportName} is not a function`));
    const ctx: HookContext = {
      migration,
      query: async (text, params) => (await client.query(text, params)).rows,
      log,
    };
    try {
      await fn(ctx);
    } catch (e) {
      throw hookError(source, phase, null, e);
    }
    return;
  }
  for (const stmt of splitStatements(source.sql)) {
    let rows: Record<string, unknown>[];
    try {
      rows = (await client.query(stmt.text)).rows as Record<string, unknown>[];
    } catch (e) {
      throw hookError(source, phase, stmt.line, e);
    }
    if (isCheckPhase(phase) && Array.isArray(rows) && rows.length > 0) {
      throw new PgpressError(
        'PGP_MIGRATION_FAILED',
        `Check ${source.file} (${phase}) failed at line ${stmt.line}: ${rows.length} violating row(s), first ${JSON.stringify(rows[0])}.`,
        { details: { hook: source.file, phase, line: stmt.line, violations: rows.length } },
      );
    }
  }
}

// A `.hooks.ts` module is TypeScript: tsx compiles that one file (its loader is scoped to this
// import, never registered for the process), so the published package needs no TypeScript loader.
async function importHookModule(path: string): Promise<unknown> {
  const href = pathToFileURL(path).href;
  if (!path.endsWith('.ts')) return import(href);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(href, import.meta.url);
}

function hookError(source: HookSource, phase: string, line: number | null, e: unknown): PgpressError {
  const where = line === null ? `${source.file} (${phase})` : `${source.file} (${phase}) at line ${line}`;
  return new PgpressError('PGP_MIGRATION_FAILED', `Hook ${where} failed: ${(e as Error).message}`, {
    cause: e,
    details: { hook: source.file, phase, line },
  });
}
