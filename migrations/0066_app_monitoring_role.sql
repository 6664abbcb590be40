-- The service's /metrics reads server-wide statistics (pg_stat_statements of every role,
-- replication state, settings): pgpress_app is a member of PostgreSQL's pg_monitor. Role
-- membership is cluster-wide and granting it needs admin rights on pg_monitor: a migration run by
-- the owner on a server where a superuser has not granted it leaves a notice (doctor reports it).
DO $$
BEGIN
  IF pg_has_role('pgpress_app', 'pg_monitor', 'MEMBER') THEN
    RETURN;
  END IF;
  IF NOT pg_has_role(current_user, 'pg_monitor', 'USAGE WITH ADMIN OPTION') THEN
    RAISE NOTICE 'pgpress_app is not a member of pg_monitor and % may not grant it: a superuser should run GRANT pg_monitor TO pgpress_app', current_user;
    RETURN;
  END IF;
  BEGIN
    GRANT pg_monitor TO pgpress_app;
  EXCEPTION WHEN unique_violation THEN
    NULL;  -- another database's migration granted it at the same moment
  END;
END
$$;
