-- Privilege and audit-trigger changes are audit entries too. An event trigger at the end of every
-- GRANT, REVOKE, ALTER DEFAULT PRIVILEGES, ALTER TABLE, CREATE TRIGGER and DROP TRIGGER compares
-- the catalog with the state it saw last (pgpress_audit_catalog_state) and appends one entry per
-- difference, in the same transaction as the command:
--   GRANT / REVOKE  table_name 'pg_catalog', row_key '<kind> <name>', old_row/new_row {"acl": …}:
--                   the privileges of a table, view, sequence, function or the schema changed
--                   (REVOKE when the command was a REVOKE; GRANT otherwise);
--   AUDIT_OFF / AUDIT_ON  row_key 'trigger <name> on <table>': an audit trigger was disabled or
--                   dropped, or enabled or created again.
-- Why an event trigger rather than the migration runner: it also sees a change made by hand (psql,
-- another tool), and the owner cannot turn it off (ALTER EVENT TRIGGER needs a superuser).
-- What it does not see: role changes (CREATE/ALTER/DROP ROLE, GRANT role TO role) — PostgreSQL
-- fires no event trigger for cluster-wide objects — and session_replication_role = replica
-- (a superuser's switch; the completeness check finds the rows it let through).
-- Creating an event trigger needs a superuser: when the migrations run as another role this
-- migration creates the state table and function only, and says so (NOTICE).
--
-- First, a fix to 0080 that needs no file of its own: its CHECK was added NOT VALID, and month
-- partitions made since (copied LIKE audit_log) carry it validated, which `migrate validate` reports
-- as drift. Every row satisfies it (0080 only widened the list): validate it on the parent, a scan
-- under SHARE UPDATE EXCLUSIVE (reads and writes go on); a no-op once valid.
ALTER TABLE audit_log VALIDATE CONSTRAINT audit_log_operation_known; -- pgpress-lint: ignore missing-lock-timeout (the runner sets MIGRATE_LOCK_TIMEOUT_MS)

CREATE TABLE IF NOT EXISTS pgpress_audit_catalog_state (
  object text PRIMARY KEY,
  state  text NOT NULL
);
REVOKE ALL ON pgpress_audit_catalog_state FROM PUBLIC;

-- The catalog as the state table holds it: ACLs of the objects in the pgpress schema, and the
-- enabled flag of each audit trigger (O, A or R: fires; D: disabled).
CREATE OR REPLACE FUNCTION pgpress_audit_catalog_now() RETURNS TABLE (object text, state text)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  -- The pgpress schema is audit_log's (current_schema() here is pg_catalog, first on the path).
  SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'matview ' ELSE 'table ' END || c.relname,
         coalesce(c.relacl::text, '')
    FROM pg_class c
   WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'audit_log'::regclass) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure::text, coalesce(p.proacl::text, '')
    FROM pg_proc p WHERE p.pronamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'audit_log'::regclass)
  UNION ALL
  SELECT 'schema ' || n.nspname, coalesce(n.nspacl::text, '') FROM pg_namespace n WHERE n.oid = (SELECT relnamespace FROM pg_class WHERE oid = 'audit_log'::regclass)
  UNION ALL
  SELECT 'trigger ' || t.tgname || ' on ' || c.relname, t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'audit_log'::regclass) AND NOT t.tgisinternal AND t.tgname ~ '_audit(_truncate)?$'
$$;

CREATE OR REPLACE FUNCTION pgpress_audit_catalog_changed() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  r record;
  v_op text;
BEGIN
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

REVOKE ALL ON FUNCTION pgpress_audit_catalog_now() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgpress_audit_catalog_changed() FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_owner') THEN
    ALTER TABLE pgpress_audit_catalog_state OWNER TO pgpress_owner;
    ALTER FUNCTION pgpress_audit_catalog_now() OWNER TO pgpress_owner;
    ALTER FUNCTION pgpress_audit_catalog_changed() OWNER TO pgpress_owner;
  END IF;
  -- The state as of now: what came before this migration is not a change.
  INSERT INTO pgpress_audit_catalog_state (object, state) SELECT n.object, n.state FROM pgpress_audit_catalog_now() n
  ON CONFLICT (object) DO UPDATE SET state = excluded.state;
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE NOTICE 'pgpress: not a superuser: privilege changes are not recorded in the audit log (run migration 0089 as a superuser to create its event trigger)';
  ELSIF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pgpress_audit_catalog') THEN
    CREATE EVENT TRIGGER pgpress_audit_catalog ON ddl_command_end
      WHEN TAG IN ('GRANT', 'REVOKE', 'ALTER DEFAULT PRIVILEGES', 'ALTER TABLE', 'CREATE TRIGGER', 'DROP TRIGGER')
      EXECUTE FUNCTION pgpress_audit_catalog_changed();
  END IF;
END
$$;
