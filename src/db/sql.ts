// Named SQL and the one identifier-quoting helper: values travel only as $n parameters.
import type pg from 'pg';

/** A query with a stable name (used for prepared statements) and $n placeholders. */
export interface NamedQuery {
  readonly name: string;
  readonly text: string;
  /** Type parsers for this query's columns instead of pg's registry (e.g. TIMESTAMPTZ_AS_TEXT). */
  readonly types?: pg.CustomTypesConfig;
}

/** Declares a named query; the name must be unique per process (prepared statement key). */
export function sql(name: string, text: string): NamedQuery {
  return Object.freeze({ name, text });
}

/** Quotes an identifier (table, column, role, database name) for PostgreSQL. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new TypeError(`Invalid SQL identifier: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}
