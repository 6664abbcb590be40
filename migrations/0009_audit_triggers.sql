-- Audit triggers on users, articles and comments. Snapshots drop the generated tsvector and keep
-- only an md5 of a body, so the log records what changed without duplicating every text.
CREATE OR REPLACE FUNCTION pgpress_audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_actor text := nullif(current_setting('pgpress.actor_id', true), '');
  v_old jsonb;
  v_new jsonb;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    v_old := to_jsonb(OLD) - 'search';
    IF v_old ? 'body' THEN v_old := jsonb_set(v_old - 'body', '{body_md5}', to_jsonb(md5(OLD.body))); END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    v_new := to_jsonb(NEW) - 'search';
    IF v_new ? 'body' THEN v_new := jsonb_set(v_new - 'body', '{body_md5}', to_jsonb(md5(NEW.body))); END IF;
  END IF;
  INSERT INTO audit_log (actor_id, table_name, operation, row_id, old_row, new_row)
  VALUES (CASE WHEN v_actor ~ '^[0-9]{1,18}$' THEN v_actor::bigint END, TG_TABLE_NAME, TG_OP,
          coalesce((v_new ->> 'id')::bigint, (v_old ->> 'id')::bigint), v_old, v_new);
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row();
CREATE OR REPLACE TRIGGER articles_audit AFTER INSERT OR UPDATE OR DELETE ON articles
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row();
CREATE OR REPLACE TRIGGER comments_audit AFTER INSERT OR UPDATE OR DELETE ON comments
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row();
