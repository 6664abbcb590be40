-- Audit rows without personal data in clear text. Each audit trigger names its table's personal
-- columns (users: email, username, display_name, bio; comments: body); the snapshot keeps those
-- keys but holds "hmac:<hex>" — HMAC-SHA256 of the value's text under pgpress_audit_key — so equal
-- values still compare equal. changed_columns lists the columns an UPDATE changed. Bodies of
-- other tables stay an md5 (articles are published text, not personal data).
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS changed_columns text[]; -- pgpress-lint: ignore missing-lock-timeout (the runner sets MIGRATE_LOCK_TIMEOUT_MS; a catalog-only change)

-- Replaces the listed keys of a row snapshot with their keyed hash (JSON nulls stay null). Only the
-- owner may run it: anyone else could hash guesses and compare them with the log.
CREATE OR REPLACE FUNCTION pgpress_audit_redact(p_row jsonb, p_columns text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  k pgpress_audit_key;
  v_col text;
BEGIN
  IF p_row IS NULL OR coalesce(cardinality(p_columns), 0) = 0 THEN RETURN p_row; END IF;
  SELECT * INTO STRICT k FROM pgpress_audit_key;
  FOREACH v_col IN ARRAY p_columns LOOP
    IF jsonb_typeof(p_row -> v_col) IS DISTINCT FROM 'null' AND p_row ? v_col THEN
      p_row := jsonb_set(p_row, ARRAY[v_col], to_jsonb('hmac:' || encode(
                 sha256(k.opad || sha256(k.ipad || convert_to(p_row ->> v_col, 'UTF8'))), 'hex')));
    END IF;
  END LOOP;
  RETURN p_row;
END
$$;

REVOKE ALL ON FUNCTION pgpress_audit_redact(jsonb, text[]) FROM PUBLIC;

-- The trigger's arguments are the table's personal columns. SECURITY DEFINER: it reads the key
-- for writers who may not; search_path pinned so no one can slip their own objects in.
CREATE OR REPLACE FUNCTION pgpress_audit_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_actor text := nullif(current_setting('pgpress.actor_id', true), '');
  v_old jsonb;
  v_new jsonb;
  v_changed text[];
  v_personal text[] := coalesce(TG_ARGV, '{}');  -- NULL when the trigger has no arguments
BEGIN
  IF TG_OP <> 'INSERT' THEN v_old := to_jsonb(OLD) - 'search'; END IF;
  IF TG_OP <> 'DELETE' THEN v_new := to_jsonb(NEW) - 'search'; END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(n.key ORDER BY n.key) INTO v_changed
      FROM jsonb_each(v_new) n WHERE v_old -> n.key IS DISTINCT FROM n.value;
  END IF;
  v_old := pgpress_audit_redact(v_old, v_personal);
  v_new := pgpress_audit_redact(v_new, v_personal);
  IF v_old ? 'body' AND NOT 'body' = ANY (v_personal) THEN v_old := jsonb_set(v_old - 'body', '{body_md5}', to_jsonb(md5(OLD.body))); END IF;
  IF v_new ? 'body' AND NOT 'body' = ANY (v_personal) THEN v_new := jsonb_set(v_new - 'body', '{body_md5}', to_jsonb(md5(NEW.body))); END IF;
  INSERT INTO audit_log (actor_id, table_name, operation, row_id, old_row, new_row, changed_columns)
  VALUES (CASE WHEN v_actor ~ '^[0-9]{1,18}$' THEN v_actor::bigint END, TG_TABLE_NAME, TG_OP,
          coalesce((v_new ->> 'id')::bigint, (v_old ->> 'id')::bigint), v_old, v_new, v_changed);
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row('email', 'username', 'display_name', 'bio');
CREATE OR REPLACE TRIGGER comments_audit AFTER INSERT OR UPDATE OR DELETE ON comments
  FOR EACH ROW EXECUTE FUNCTION pgpress_audit_row('body');
