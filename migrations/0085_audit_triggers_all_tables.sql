-- Audited: users, articles, comments and tags, every row written and every TRUNCATE. The arguments
-- of pgpress_audit_row are the table's personal columns (docs/schema.md "Audit privacy"). Names
-- matter: `pgpress audit verify` and pgpress_audit_triggers_off look for <table>_audit and
-- <table>_audit_truncate.
CREATE OR REPLACE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users -- pgpress-lint: ignore missing-lock-timeout (the runner sets MIGRATE_LOCK_TIMEOUT_MS)
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row('email', 'username', 'display_name', 'bio');
CREATE OR REPLACE TRIGGER articles_audit AFTER INSERT OR UPDATE OR DELETE ON articles
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row();
CREATE OR REPLACE TRIGGER comments_audit AFTER INSERT OR UPDATE OR DELETE ON comments
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row('body');
CREATE OR REPLACE TRIGGER tags_audit AFTER INSERT OR UPDATE OR DELETE ON tags
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row();

CREATE OR REPLACE TRIGGER users_audit_truncate AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_audit_truncate();
CREATE OR REPLACE TRIGGER articles_audit_truncate AFTER TRUNCATE ON articles
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_audit_truncate();
CREATE OR REPLACE TRIGGER comments_audit_truncate AFTER TRUNCATE ON comments
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_audit_truncate();
CREATE OR REPLACE TRIGGER tags_audit_truncate AFTER TRUNCATE ON tags
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_audit_truncate();
