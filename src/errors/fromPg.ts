// Maps errors from node-postgres to catalogued errors by SQLSTATE class.
import { PgpressError, isPgServerError, isPgpressError, type PgDetails } from './pgpressError.ts';
import type { ErrorCode } from './catalogue.ts';

/** SQLSTATE (exact, then two-character class) → catalogue code. Unlisted: PGP_DB_ERROR. */
const BY_SQLSTATE: Record<string, ErrorCode> = {
  '23505': 'PGP_CONFLICT', // unique_violation
  '23P01': 'PGP_CONFLICT', // exclusion_violation
  '23503': 'PGP_UNPROCESSABLE', // foreign_key_violation
  '23502': 'PGP_VALIDATION', // not_null_violation
  '23514': 'PGP_VALIDATION', // check_violation
  '22': 'PGP_VALIDATION', // data exception: bad value for the type
  '40001': 'PGP_CONFLICT', // serialization_failure (after retries)
  '40P01': 'PGP_CONFLICT', // deadlock_detected (after retries)
  '57014': 'PGP_DEADLINE_EXCEEDED', // query_canceled (statement_timeout)
  '55P03': 'PGP_CONFLICT', // lock_not_available
  '08': 'PGP_DB_UNAVAILABLE', // connection exception
  '57P01': 'PGP_DB_UNAVAILABLE', // admin_shutdown
  '57P02': 'PGP_DB_UNAVAILABLE', // crash_shutdown
  '57P03': 'PGP_DB_UNAVAILABLE', // cannot_connect_now
  '53300': 'PGP_DB_UNAVAILABLE', // too_many_connections
  '25006': 'PGP_DB_UNAVAILABLE', // read_only_sql_transaction: a standby took the write (after a failover); nothing was written
};

const CLIENT_MESSAGES: Partial<Record<ErrorCode, string>> = {
  PGP_CONFLICT: 'The write conflicts with existing data.',
  PGP_UNPROCESSABLE: 'The request refers to a row that does not exist.',
  PGP_VALIDATION: 'A value was rejected by the database.',
  PGP_DEADLINE_EXCEEDED: 'The statement took longer than its time limit.',
  PGP_DB_UNAVAILABLE: 'The database is unavailable; try again shortly.',
  PGP_DB_ERROR: 'The database refused the statement.',
};

/** Node-level connection failures that carry no SQLSTATE. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);

/** Returns the SQLSTATE of a server error, '08006' for a broken connection, else undefined. */
export function sqlstateOf(e: unknown): string | undefined {
  if (isPgServerError(e)) return e.code;
  if (isPgpressError(e)) return e.pg?.sqlstate;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return '08006';
    // 'not queryable': node-postgres refuses a statement on a client whose connection already failed.
    if (/Connection terminated|connection.*(ended|closed)|Client was closed|not queryable/i.test(e.message)) return '08006';
  }
  return undefined;
}

/** Wraps any error thrown by the database layer into a PgpressError (idempotent). */
export function fromPgError(e: unknown): PgpressError {
  if (isPgpressError(e)) return e;
  const sqlstate = sqlstateOf(e);
  const code: ErrorCode =
    sqlstate === undefined
      ? 'PGP_INTERNAL'
      : (BY_SQLSTATE[sqlstate] ?? BY_SQLSTATE[sqlstate.slice(0, 2)] ?? 'PGP_DB_ERROR');
  const pg: PgDetails | undefined = isPgServerError(e)
    ? { sqlstate, detail: e.detail, hint: e.hint, constraint: e.constraint, table: e.table, column: e.column }
    : sqlstate
      ? { sqlstate }
      : undefined;
  const message = CLIENT_MESSAGES[code] ?? (e instanceof Error ? e.message : String(e));
  return new PgpressError(code, message, { cause: e, ...(pg ? { pg } : {}) });
}
