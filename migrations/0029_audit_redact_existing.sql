-- pgpress:no-transaction
-- Audit rows written before 0028 hold users' email, username, display name and bio in clear
-- text: redact them in place the same way (and record which columns their UPDATEs changed), in
-- batches that each commit, so a long log is neither locked nor rewritten in one transaction.
-- Archived audit months (audit_log_pYYYY_MM_archived) are redacted too. Re-running finds
-- nothing left: a redacted snapshot's email starts with "hmac:".
DO $$
DECLARE
  v_personal constant text[] := ARRAY['email', 'username', 'display_name', 'bio'];
  v_table regclass;
  v_changed text;
  v_last bigint;
BEGIN
  FOR v_table IN
    SELECT c.oid::regclass FROM pg_class c
     WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'audit_log'::regclass)
       AND c.relkind IN ('r', 'p')
       AND (c.relname = 'audit_log' OR c.relname ~ '^audit_log_p[0-9]{4}_[0-9]{2}_archived$')
     ORDER BY c.relname
  LOOP
    -- An archived month detached before 0028 has no changed_columns.
    v_changed := CASE WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = v_table AND attname = 'changed_columns' AND NOT attisdropped)
      THEN $c$, changed_columns = CASE WHEN a.operation = 'UPDATE' THEN
                  (SELECT array_agg(n.key ORDER BY n.key) FROM jsonb_each(a.new_row) n WHERE a.old_row -> n.key IS DISTINCT FROM n.value) END$c$
      ELSE '' END;
    v_last := 0;
    LOOP
      -- SET expressions read the row as it was: changed_columns compares the clear values.
      EXECUTE format($f$
        WITH batch AS (
          SELECT id, occurred_at FROM %1$s
           WHERE id > $1 AND table_name = 'users' AND (coalesce(new_row, old_row) ->> 'email') NOT LIKE 'hmac:%%'
           ORDER BY id LIMIT 1000),
        done AS (
          UPDATE %1$s a
             SET old_row = pgpress_audit_redact(a.old_row, $2), new_row = pgpress_audit_redact(a.new_row, $2) %2$s
            FROM batch b
           WHERE a.id = b.id AND a.occurred_at = b.occurred_at
          RETURNING a.id)
        SELECT max(id) FROM done$f$, v_table, v_changed)
        INTO v_last USING v_last, v_personal;
      EXIT WHEN v_last IS NULL;
      COMMIT;
    END LOOP;
  END LOOP;
END
$$;
