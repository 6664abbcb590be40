// Invalid indexes: what a failed or killed CREATE INDEX CONCURRENTLY leaves behind.
import type pg from 'pg';
import { quoteIdent } from '../db/sql.ts';
import { runFormatted } from '../db/utilityStatement.ts';

// An invalid index, unless a backend other than this one is building it: a CREATE INDEX
// CONCURRENTLY in progress is INVALID too (its index_relid), and so is the _ccnew index of a
// REINDEX CONCURRENTLY on the same table. Seeing other roles' builds needs pg_read_all_stats.
const INVALID_NOT_IN_PROGRESS = `
SELECT n.nspname AS schema, c.relname AS name, c.oid::text AS oid
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE i.indexrelid = to_regclass($1) AND NOT i.indisvalid
   AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
                    WHERE p.pid <> pg_backend_pid()
                      AND (p.index_relid = i.indexrelid OR (p.relid = i.indrelid AND p.command LIKE 'REINDEX%')))`;
const INDEX_OID = 'SELECT to_regclass($1)::oid::text AS oid';

/** schema.name, each part through quoteIdent: the only form these names take in SQL text. */
function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** The index a statement creates concurrently, as written in it (quoted parts kept), or null. */
export function concurrentIndexName(text: string): string | null {
  const m = CONCURRENT_INDEX.exec(text.replace(/^(\s*--[^\n]*\n)+/, ''));
  if (!m) return null;
  return m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`;
}

/** The oid of the index `name` names now (null: none), to tell after a failure whether the statement made it. */
export async function indexOid(client: pg.Client, name: string): Promise<string | null> {
  return (await client.query<{ oid: string | null }>(INDEX_OID, [name])).rows[0]!.oid;
}

/** Drops the index `name` if it is invalid, nobody else is building it, and it is not the one
 *  that existed before the statement (`oidBefore`); returns its qualified name when dropped. */
export async function dropOwnInvalidIndex(client: pg.Client, name: string, oidBefore: string | null = null): Promise<string | null> {
  const row = (await client.query<{ schema: string; name: string; oid: string }>(INVALID_NOT_IN_PROGRESS, [name])).rows[0];
  if (!row || row.oid === oidBefore) return null;
  await runFormatted(client, 'DROP INDEX CONCURRENTLY IF EXISTS %I.%I', [row.schema, row.name]);
  return qualified(row.schema, row.name);
}

const CONCURRENT_INDEX = /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\.("(?:[^"]|"")+"|[A-Za-z_][\w$]*))?/i;

/**
 * Drops invalid indexes named by this file's CREATE INDEX CONCURRENTLY statements: a runner killed
 * mid-build leaves one, and `IF NOT EXISTS` would otherwise skip it and keep it invalid forever.
 * One that another session is building right now is left alone.
 */
export async function dropLeftoverIndexes(client: pg.Client, statements: readonly string[]): Promise<string[]> {
  const dropped: string[] = [];
  for (const text of statements) {
    const name = concurrentIndexName(text);
    const q = name === null ? null : await dropOwnInvalidIndex(client, name);
    if (q !== null) dropped.push(q);
  }
  return dropped;
}
