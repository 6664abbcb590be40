-- The reindex job measures btree bloat with pgstattuple's pgstatindex, which PostgreSQL allows to
-- pg_stat_scan_tables: maintenance runs as pgpress_owner, so the owner is a member. Granted only by
-- a role that may (a superuser); otherwise a notice, and the job estimates bloat from the catalog.
DO $$
BEGIN
  IF pg_has_role('pgpress_owner', 'pg_stat_scan_tables', 'MEMBER') THEN
    RETURN;
  END IF;
  IF NOT pg_has_role(current_user, 'pg_stat_scan_tables', 'USAGE WITH ADMIN OPTION') THEN
    RAISE NOTICE 'pgpress_owner is not a member of pg_stat_scan_tables and % may not grant it', current_user;
    RETURN;
  END IF;
  BEGIN
    GRANT pg_stat_scan_tables TO pgpress_owner;
  EXCEPTION WHEN unique_violation THEN
    NULL;  -- another database's migration granted it at the same moment
  END;
END
$$;
