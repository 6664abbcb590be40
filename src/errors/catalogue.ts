// The error catalogue: every error pgpress raises has one of these stable codes.

/** code → HTTP status and what it means (the error table of docs/api.md is checked against this). */
export const ERROR_CATALOGUE = {
  PGP_CONFIG_INVALID: { status: 500, summary: 'A setting has a bad value; the message names the variable and the expected form.' },
  PGP_VALIDATION: { status: 400, summary: 'The request or argument is malformed; the message says which field and why.' },
  PGP_UNAUTHORIZED: { status: 401, summary: 'The request needs a valid bearer token.' },
  PGP_FORBIDDEN: { status: 403, summary: 'The caller may not do this to this resource.' },
  PGP_NOT_FOUND: { status: 404, summary: 'No such resource.' },
  PGP_CONFLICT: { status: 409, summary: 'The write conflicts with existing data (duplicate key, stale version).' },
  PGP_PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body is over the size limit.' },
  PGP_UNPROCESSABLE: { status: 422, summary: 'The request refers to something that does not exist or breaks a rule of the data.' },
  PGP_IDEMPOTENCY_MISMATCH: { status: 422, summary: 'The Idempotency-Key was first used with a different request (method, path or body); send a new key for a new request.' },
  PGP_IDEMPOTENCY_CONFLICT: { status: 409, summary: 'The Idempotency-Key is taken but its answer could not be read (purged a moment ago); retry the same request.' },
  PGP_RATE_LIMITED: { status: 429, summary: 'Too many requests from this client; retry after the time given.' },
  PGP_POOL_TIMEOUT: { status: 503, summary: 'No database connection became free before the deadline.' },
  PGP_CIRCUIT_OPEN: { status: 503, summary: 'The database target is failing; calls fail fast until a trial succeeds.' },
  PGP_OVERLOADED: { status: 503, summary: 'The server is shedding load; retry after the time given.' },
  PGP_DB_UNAVAILABLE: { status: 503, summary: 'The database cannot be reached or is shutting down.' },
  PGP_DEADLINE_EXCEEDED: { status: 504, summary: 'The operation did not finish before its deadline.' },
  PGP_DB_ERROR: { status: 500, summary: 'The database refused the statement for a reason the caller cannot fix.' },
  PGP_OUTCOME_UNKNOWN: { status: 503, summary: 'The connection failed while a write was in flight; it may or may not have committed.' },
  PGP_TX_ROLLED_BACK: { status: 500, summary: 'PostgreSQL rolled the transaction back at COMMIT because a statement in it had failed; nothing was written.' },
  PGP_MIGRATION_FAILED: { status: 500, summary: 'A migration failed and was rolled back; the message names the file and statement.' },
  PGP_MIGRATION_LOCKED: { status: 409, summary: 'Another migration runner holds the migration lock.' },
  PGP_MIGRATION_DRIFT: { status: 500, summary: 'An applied migration no longer matches its file, or files are out of order.' },
  PGP_MIGRATIONS_PENDING: { status: 503, summary: 'The database is behind the migrations on disk.' },
  PGP_EMBEDDED_START_FAILED: { status: 500, summary: 'The embedded PostgreSQL could not start (port or data directory in use, or broken).' },
  PGP_SERVICE_MISSING: { status: 500, summary: 'A service the command needs is not running; the message says what to start.' },
  PGP_BACKUP_FAILED: { status: 500, summary: 'A backup could not be taken (archiving not set up, server not on this machine, copy failed); the message says which.' },
  PGP_BACKUP_CORRUPT: { status: 500, summary: 'A backup failed verification: the message names the changed, truncated or missing files, or the table whose figures differ.' },
  PGP_ENCRYPTION_KEY_MISSING: { status: 500, summary: 'A personal field is sealed under a key id that ENCRYPTION_KEYS no longer holds; add that key back to the ring.' },
  PGP_DECRYPTION_FAILED: { status: 500, summary: 'A personal field does not open: the key under its id differs from the one that sealed it, or the stored bytes were changed or moved.' },
  PGP_RESTORE_FAILED: { status: 500, summary: 'A restore could not build or start the cluster; the message has the server log tail.' },
  PGP_TOOL_MISSING: { status: 500, summary: 'A PostgreSQL client program (pg_dump, pg_restore, pg_ctl) is not installed; the message has the install command.' },
  PGP_INTERNAL: { status: 500, summary: 'An unexpected failure; the log has the details under the request id.' },
} as const satisfies Record<string, { status: number; summary: string }>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;
