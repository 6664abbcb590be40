-- Every pgpress object (tables and partitions, views, materialized views, sequences, functions)
-- belongs to pgpress_owner, whoever ran the migrations that made it (a superuser in tests and on
-- the embedded default). Extension members stay with the extension. Sequences owned by a table
-- column follow their table. Later migrations set the owner of what they create themselves.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid, c.relkind
      FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace
       AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND c.relowner <> 'pgpress_owner'::regrole
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
       AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
     ORDER BY c.relispartition, c.oid  -- parents first: ALTER TABLE on a parent does not recurse, each partition gets its own
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO pgpress_owner',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      r.oid::regclass);
  END LOOP;
  FOR r IN
    SELECT p.oid
      FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace
       AND p.proowner <> 'pgpress_owner'::regrole
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO pgpress_owner', r.oid::regprocedure);
  END LOOP;
END
$$;
