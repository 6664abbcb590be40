-- The four pgpress roles (cluster-wide: every database on the server shares them). Migrations
-- give them no password: an operator sets one, the embedded default generates them.
--   pgpress_owner    owns every pgpress object; migrations (after bootstrap) and maintenance.
--                    BYPASSRLS so maintenance and its SECURITY DEFINER functions see every row.
--   pgpress_app      the service: DML on what it needs, owns nothing, no CREATE, under RLS.
--   pgpress_readonly reads content and analytics (replicas, reporting).
--   pgpress_auditor  reads the audit log.
-- Many databases may migrate at once on one server: look first (a non-superuser re-running this
-- on a server that has the roles must not need CREATEROLE), and take duplicate_object from a
-- concurrent CREATE ROLE as success.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES
      ('pgpress_owner',    'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS'),
      ('pgpress_app',      'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS'),
      ('pgpress_readonly', 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS'),
      ('pgpress_auditor',  'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS')) AS v(name, attrs)
  LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name);
    BEGIN
      EXECUTE format('CREATE ROLE %I %s', r.name, r.attrs);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- another database's migration created it between the look and the CREATE
    END;
  END LOOP;
END
$$;
