-- The audit log becomes a hash chain (src/audit/, docs/security.md "Audit log"). Each entry now
-- carries its place in one of a few chains (chain, seq), the hash of the entry before it
-- (prev_hash) and its own hash, sha256(prev_hash || payload); who wrote it as the database role
-- (db_role) and the request's role (actor_role, from pgpress.role); and its row's key as text
-- (row_key: tags are keyed by name, TRUNCATE and retention entries by nothing, so row_id may be
-- NULL). Catalog-only changes: no rewrite, no scan.
ALTER TABLE audit_log -- pgpress-lint: ignore missing-lock-timeout (the runner sets MIGRATE_LOCK_TIMEOUT_MS; catalog-only)
  ADD COLUMN IF NOT EXISTS chain smallint,
  ADD COLUMN IF NOT EXISTS seq bigint,
  ADD COLUMN IF NOT EXISTS prev_hash bytea,
  ADD COLUMN IF NOT EXISTS hash bytea,
  ADD COLUMN IF NOT EXISTS db_role text,
  ADD COLUMN IF NOT EXISTS actor_role text,
  ADD COLUMN IF NOT EXISTS row_key text,
  ALTER COLUMN row_id DROP NOT NULL,
  DROP CONSTRAINT IF EXISTS audit_log_operation_check,
  DROP CONSTRAINT IF EXISTS audit_log_rows_match_operation;

-- Row writes, TRUNCATE, a retention removal (RETIRE) and catalog changes the event trigger sees
-- (GRANT, REVOKE, AUDIT_OFF/AUDIT_ON for an audit trigger disabled, dropped or enabled again).
-- NOT VALID: rows written before satisfy it, and checking them would scan the whole log.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'audit_log'::regclass AND conname = 'audit_log_operation_known') THEN
    ALTER TABLE audit_log ADD CONSTRAINT audit_log_operation_known
      CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'RETIRE', 'GRANT', 'REVOKE', 'AUDIT_OFF', 'AUDIT_ON')) NOT VALID;
  END IF;
END
$$;
