-- The row audit trigger appends to the hash chain (pgpress_audit_append, 0083), and is cheaper than
-- 0028's: the personal columns (the trigger's arguments) are hashed inline, with the key read once
-- per row and only on tables that have personal columns (0028 made two SECURITY DEFINER calls with
-- a SET clause per row, on every table, and read the key in each); an UPDATE that leaves a personal
-- column unchanged reuses the old side's hash. The key is the row's id (row_id and row_key) or, for
-- tables keyed by name (tags), its name (row_key only).
CREATE OR REPLACE FUNCTION pgpress_audit_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_old jsonb;
  v_new jsonb;
  v_changed text[];
  v_key text;
  v_col text;
  v_ipad bytea;
  v_opad bytea;
BEGIN
  IF TG_OP <> 'INSERT' THEN v_old := to_jsonb(OLD) - 'search'; END IF;
  IF TG_OP <> 'DELETE' THEN v_new := to_jsonb(NEW) - 'search'; END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(n.key ORDER BY n.key) INTO v_changed
      FROM jsonb_each(v_new) n WHERE v_old -> n.key IS DISTINCT FROM n.value;
  END IF;
  v_key := coalesce(v_new, v_old) ->> 'id';
  IF v_key IS NULL THEN v_key := coalesce(v_new, v_old) ->> 'name'; END IF;

  -- TG_NARGS, not TG_ARGV: TG_ARGV is NULL on a trigger without arguments.
  IF TG_NARGS > 0 THEN
    SELECT k.ipad, k.opad INTO STRICT v_ipad, v_opad FROM pgpress_audit_key k;
    FOREACH v_col IN ARRAY TG_ARGV LOOP
      IF jsonb_typeof(v_old -> v_col) NOT IN ('null') THEN
        v_old := jsonb_set(v_old, ARRAY[v_col], to_jsonb('hmac:' || encode(
                   sha256(v_opad || sha256(v_ipad || convert_to(v_old ->> v_col, 'UTF8'))), 'hex')));
      END IF;
      IF jsonb_typeof(v_new -> v_col) NOT IN ('null') THEN
        IF v_old IS NOT NULL AND NOT v_col = ANY (coalesce(v_changed, '{}')) THEN
          v_new := jsonb_set(v_new, ARRAY[v_col], v_old -> v_col);  -- unchanged: the same hash
        ELSE
          v_new := jsonb_set(v_new, ARRAY[v_col], to_jsonb('hmac:' || encode(
                     sha256(v_opad || sha256(v_ipad || convert_to(v_new ->> v_col, 'UTF8'))), 'hex')));
        END IF;
      END IF;
    END LOOP;
  END IF;
  -- Bodies of tables where the body is not personal (articles: published text) stay an md5.
  IF v_old ? 'body' AND NOT 'body' = ANY (coalesce(TG_ARGV, '{}')) THEN v_old := jsonb_set(v_old - 'body', '{body_md5}', to_jsonb(md5(OLD.body))); END IF;
  IF v_new ? 'body' AND NOT 'body' = ANY (coalesce(TG_ARGV, '{}')) THEN v_new := jsonb_set(v_new - 'body', '{body_md5}', to_jsonb(md5(NEW.body))); END IF;

  PERFORM pgpress_audit_append(TG_TABLE_NAME, TG_OP, CASE WHEN v_key ~ '^[0-9]{1,18}$' THEN v_key::bigint END, v_key,
                               v_old, v_new, v_changed);
  RETURN NULL;
END
$$;

-- TRUNCATE removes every row at once, without row triggers: one entry for the table.
CREATE OR REPLACE FUNCTION pgpress_audit_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM pgpress_audit_append(TG_TABLE_NAME, 'TRUNCATE', NULL, NULL, NULL, NULL, NULL);
  RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION pgpress_audit_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgpress_audit_truncate() FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_owner') THEN
    ALTER FUNCTION pgpress_audit_row() OWNER TO pgpress_owner;
    ALTER FUNCTION pgpress_audit_truncate() OWNER TO pgpress_owner;
  END IF;
END
$$;
