// PgpressError: a catalogued error with its code, HTTP status and PostgreSQL details.
import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.ts';

/** Details PostgreSQL attaches to an error (node-postgres DatabaseError fields). */
export interface PgDetails {
  sqlstate?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  constraint?: string | undefined;
  table?: string | undefined;
  column?: string | undefined;
}

/** Every error pgpress raises on purpose. */
export class PgpressError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly pg: PgDetails | undefined;
  /** Extra facts for the caller (e.g. which field failed); safe to show. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; pg?: PgDetails; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PgpressError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.pg = opts.pg;
    this.details = opts.details;
  }
}

/** True for any PgpressError, also across module copies (a guard, not instanceof). */
export function isPgpressError(e: unknown): e is PgpressError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { name?: unknown }).name === 'PgpressError' &&
    typeof (e as { code?: unknown }).code === 'string' &&
    (e as { code: string }).code in ERROR_CATALOGUE
  );
}

/** True for an error that came from the PostgreSQL server (it has a 5-character SQLSTATE). */
export function isPgServerError(e: unknown): e is Error & { code: string } & PgDetails {
  return (
    e instanceof Error &&
    typeof (e as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((e as unknown as { code: string }).code) &&
    'severity' in e
  );
}
