// The migration tracking table: one row per applied migration.

/** Qualified name of the tracking table. */
export const TRACKING_TABLE = 'public.pgpress_migrations';

/** Creates the tracking table if it is missing (run under the migration lock). */
export const TRACKING_DDL = `
CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (
  version     integer PRIMARY KEY,
  name        text        NOT NULL,
  checksum    text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at  timestamptz NOT NULL DEFAULT now(),
  duration_ms integer     NOT NULL CHECK (duration_ms >= 0),
  applied_by  text        NOT NULL DEFAULT current_user
)`;
