-- The catalog event trigger (0089) steps aside when audit_log does not exist: it fires for every
-- ALTER TABLE, GRANT and REVOKE in the database, and once the log is gone (dropped by hand, a
-- teardown, a restore that has not created it yet) it failed each of them with "relation
-- audit_log does not exist". Otherwise unchanged; CREATE OR REPLACE keeps its owner and privileges.
CREATE OR REPLACE FUNCTION pgpress_audit_catalog_changed() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  r record;
  v_op text;
BEGIN
  -- The trigger is database-wide; without the log there is nothing to compare or append to.
  IF to_regclass('audit_log') IS NULL THEN RETURN; END IF;
  FOR r IN
    SELECT coalesce(n.object, o.object) AS object, o.state AS old_state, n.state AS new_state
      FROM pgpress_audit_catalog_now() n FULL JOIN pgpress_audit_catalog_state o ON o.object = n.object
     WHERE n.state IS DISTINCT FROM o.state
     ORDER BY 1
  LOOP
    IF r.object LIKE 'trigger %' THEN
      v_op := CASE WHEN r.new_state IS NULL OR r.new_state = 'D' THEN 'AUDIT_OFF' ELSE 'AUDIT_ON' END;
      -- A new audit trigger, or one dropped with its table, is not a change of auditing to report
      -- as such unless it was enabled before (a table dropped whole is audited by its DROP).
      IF r.old_state IS NULL AND v_op = 'AUDIT_ON' AND TG_TAG <> 'CREATE TRIGGER' THEN v_op := NULL; END IF;
    ELSE
      v_op := CASE WHEN TG_TAG = 'REVOKE' THEN 'REVOKE' ELSE 'GRANT' END;
      -- Objects created since the last event count with the privileges they were given (none:
      -- no change); objects dropped since are no privilege change (their state is forgotten).
      IF r.new_state IS NULL OR coalesce(r.old_state, '') = r.new_state THEN v_op := NULL; END IF;
    END IF;
    IF v_op IS NOT NULL THEN
      PERFORM pgpress_audit_append('pg_catalog', v_op, NULL, r.object,
        CASE WHEN r.old_state IS NOT NULL THEN jsonb_build_object('state', r.old_state) END,
        CASE WHEN r.new_state IS NOT NULL THEN jsonb_build_object('state', r.new_state, 'command', TG_TAG) END, NULL);
    END IF;
    IF r.new_state IS NULL THEN
      DELETE FROM pgpress_audit_catalog_state WHERE object = r.object;
    ELSE
      INSERT INTO pgpress_audit_catalog_state (object, state) VALUES (r.object, r.new_state)
      ON CONFLICT (object) DO UPDATE SET state = excluded.state;
    END IF;
  END LOOP;
END
$$;

REVOKE ALL ON FUNCTION pgpress_audit_catalog_changed() FROM PUBLIC;
