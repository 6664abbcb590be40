-- The audit log records users' encrypted email columns as keyed hashes like the other personal
-- columns (docs/audit.md): neither the ciphertext nor the blind index is kept readable there.
CREATE OR REPLACE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users -- pgpress-lint: ignore missing-lock-timeout (the runner sets MIGRATE_LOCK_TIMEOUT_MS)
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row('email', 'email_ciphertext', 'email_index', 'username', 'display_name', 'bio');
