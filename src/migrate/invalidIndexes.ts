// Invalid indexes: what a failed or killed CREATE INDEX CONCURRENTLY leaves behind.
import type pg from 'pg';
import { quoteIdent } from '../db/sql.ts';

const LIST_INVALID = `
SELECT n.nspname AS schema, c.relname AS name
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT i.indisvalid`;

/** schema.name, each part through quoteIdent: the only form these names take in SQL text. */
function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Drops one index by its quoted, qualified name (from `qualified`). */
async function dropIndex(client: pg.Client, qualifiedName: string): Promise<void> {
  await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualifiedName}`);
}

/** Qualified, quoted names of every invalid index in the database. */
export async function invalidIndexes(client: pg.Client): Promise<Set<string>> {
  const { rows } = await client.query<{ schema: string; name: string }>(LIST_INVALID);
  return new Set(rows.map((r) => qualified(r.schema, r.name)));
}

/** Drops the invalid indexes that are not in `before` (the ones this migration left); returns them. */
export async function dropNewInvalidIndexes(client: pg.Client, before: ReadonlySet<string>): Promise<string[]> {
  const dropped: string[] = [];
  for (const name of await invalidIndexes(client)) {
    if (before.has(name)) continue;
    await dropIndex(client, name);
    dropped.push(name);
  }
  return dropped;
}

const CONCURRENT_INDEX = /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\.("(?:[^"]|"")+"|[A-Za-z_][\w$]*))?/i;

/**
 * Drops invalid indexes named by this file's CREATE INDEX CONCURRENTLY statements: a runner killed
 * mid-build leaves one, and `IF NOT EXISTS` would otherwise skip it and keep it invalid forever.
 */
export async function dropLeftoverIndexes(client: pg.Client, statements: readonly string[]): Promise<string[]> {
  const dropped: string[] = [];
  for (const text of statements) {
    const m = CONCURRENT_INDEX.exec(text.replace(/^(\s*--[^\n]*\n)+/, ''));
    if (!m) continue;
    const name = m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`;
    const { rows } = await client.query<{ invalid: boolean; schema: string; name: string }>(
      `SELECT NOT i.indisvalid AS invalid, n.nspname AS schema, c.relname AS name
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.indexrelid = to_regclass($1)`,
      [name],
    );
    const row = rows[0];
    if (row?.invalid) {
      const q = qualified(row.schema, row.name);
      await dropIndex(client, q);
      dropped.push(q);
    }
  }
  return dropped;
}
