// Applies one migration: in one transaction with its hooks and checks, or statement by statement
// when the file is marked `-- pgpress:no-transaction` (CREATE INDEX CONCURRENTLY cannot run in one).
import type pg from 'pg';
import { PgpressError } from '../errors/index.ts';
import { runHook } from './hooks.ts';
import { concurrentIndexName, dropLeftoverIndexes, dropOwnInvalidIndex, indexOid } from './invalidIndexes.ts';
import { isLockTimeout, withLockRetry, type LockPolicy } from './lockRetry.ts';
import type { HookPhase, MigrationFile } from './migrationFiles.ts';
import { splitStatements, type Statement } from './splitStatements.ts';
import { insertTracking } from './trackingTable.ts';

/** One migration the runner applied. */
export interface AppliedMigration {
  version: number;
  name: string;
  durationMs: number;
}

/** What applying needs besides the file. */
export interface ApplyContext {
  client: pg.Client;
  lock: LockPolicy;
  /** row_hash of the latest tracking row: the new row links to it. */
  previousHash: string | null;
  log: (message: string) => void;
}

/** Applies a migration and records it; a lock timeout retries (whole migration, or the one statement). */
export async function applyMigration(file: MigrationFile, ctx: ApplyContext): Promise<AppliedMigration & { rowHash: string }> {
  const started = performance.now();
  let rowHash = '';
  const onRetry = (n: number, ms: number): void => ctx.log(`${file.file}: lock_timeout (${ctx.lock.timeoutMs} ms) hit, retry ${n}/${ctx.lock.retries} in ${ms} ms`);
  try {
    if (file.transactional) rowHash = await withLockRetry(ctx.lock, () => applyInTransaction(file, ctx, started), onRetry);
    else rowHash = await applyStatementByStatement(file, ctx, started, onRetry);
  } catch (e) {
    if (isLockTimeout(e)) {
      throw new PgpressError(
        'PGP_MIGRATION_FAILED',
        `${(e as Error).message} — gave up after ${ctx.lock.retries + 1} tries of lock_timeout ${ctx.lock.timeoutMs} ms: a long transaction holds a table this migration locks. Retry when it ends, or raise MIGRATE_LOCK_TIMEOUT_MS.`,
        { cause: e, details: (e as PgpressError).details },
      );
    }
    throw e;
  }
  return { version: file.version, name: file.name, durationMs: Math.round(performance.now() - started), rowHash };
}

async function applyInTransaction(file: MigrationFile, ctx: ApplyContext, started: number): Promise<string> {
  const { client } = ctx;
  await client.query('BEGIN');
  try {
    // SET LOCAL: every statement of this migration, hooks included, waits at most timeoutMs for a lock.
    await client.query('SELECT set_config($1, $2, true)', ['lock_timeout', `${ctx.lock.timeoutMs}ms`]);
    await runPhases(file, ctx, ['precheck', 'pre']);
    for (const stmt of splitStatements(file.sql)) await runStatement(client, file, stmt);
    await runPhases(file, ctx, ['post', 'check']);
    const hash = await record(file, ctx, started);
    await client.query('COMMIT');
    return hash;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

async function applyStatementByStatement(file: MigrationFile, ctx: ApplyContext, started: number, onRetry: (n: number, ms: number) => void): Promise<string> {
  const { client } = ctx;
  const statements = splitStatements(file.sql);
  await client.query('SELECT set_config($1, $2, false)', ['lock_timeout', `${ctx.lock.timeoutMs}ms`]);
  try {
    const leftovers = await dropLeftoverIndexes(client, statements.map((s) => s.text));
    if (leftovers.length > 0) ctx.log(`${file.file}: dropped invalid index(es) left by an earlier attempt: ${leftovers.join(', ')}`);
    await runPhases(file, ctx, ['precheck', 'pre']);
    for (const stmt of statements) {
      await withLockRetry(
        ctx.lock,
        async () => {
          // Only the index this statement names, and only if the statement made it: any other
          // invalid index may be another session's build in progress.
          const index = concurrentIndexName(stmt.text);
          const before = index === null ? null : await indexOid(client, index);
          try {
            await runStatement(client, file, stmt);
          } catch (e) {
            // A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would then keep.
            // The statement's own error is what the caller needs, so a failed cleanup is only logged.
            try {
              const dropped = index === null ? null : await dropOwnInvalidIndex(client, index, before);
              if (dropped !== null) ctx.log(`${file.file}: dropped the invalid index(es) the failed statement left: ${dropped}`);
            } catch (cleanup) {
              ctx.log(`${file.file}: could not drop the invalid index the failed statement left (the next run retries): ${(cleanup as Error).message}`);
            }
            throw e;
          }
        },
        onRetry,
      );
    }
    await runPhases(file, ctx, ['post', 'check']);
    return await record(file, ctx, started);
  } finally {
    await client.query('RESET lock_timeout').catch(() => undefined);
  }
}

async function runPhases(file: MigrationFile, ctx: ApplyContext, phases: readonly HookPhase[]): Promise<void> {
  for (const phase of phases) {
    for (const source of file.hooks[phase]) await runHook(ctx.client, source, phase, { version: file.version, name: file.name }, ctx.log);
  }
}

async function runStatement(client: pg.Client, file: MigrationFile, stmt: Statement): Promise<void> {
  try {
    await client.query(stmt.text);
  } catch (e) {
    const first = stmt.text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('--'))?.trim().slice(0, 120) ?? '';
    const undone = file.transactional ? 'Nothing of this migration was applied.' : 'The statements before it stay applied (non-transactional file); it runs again from the start next time.';
    throw new PgpressError('PGP_MIGRATION_FAILED', `Migration ${file.file} failed at line ${stmt.line} (${first}): ${(e as Error).message}. ${undone}`, {
      cause: e,
      details: { file: file.file, line: stmt.line, statement: stmt.text },
    });
  }
}

async function record(file: MigrationFile, ctx: ApplyContext, started: number): Promise<string> {
  const durationMs = Math.round(performance.now() - started);
  return insertTracking(ctx.client, { version: file.version, name: file.name, checksum: file.checksum, script: file.sql, durationMs }, ctx.previousHash);
}
