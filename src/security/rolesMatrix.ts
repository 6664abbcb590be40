// The privilege matrix: what each pgpress role (and PUBLIC) may do to each pgpress object, read
// from the catalog as lines `kind<TAB>object<TAB>who<TAB>what`, sorted. Kept in the repo as
// test/security/expected-privileges.tsv; a grant made by hand or a migration's omission shows as
// a line added or missing. Extension members and month partitions (made by maintenance, named by
// date) are left out; the default partitions are in.

/** The roles the matrix covers, and PUBLIC. */
export const MATRIX_ROLES = ['pgpress_owner', 'pgpress_app', 'pgpress_readonly', 'pgpress_auditor', 'public'] as const;

/** Anything with a text query method (pg.Client, pg.Pool, pg.PoolClient). */
export interface CatalogReader {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

// Relations of schema public that pgpress made: not extension members, not month partitions.
const RELATIONS = `
  SELECT c.oid, c.relname, c.relkind, c.relowner, c.relispartition
    FROM pg_class c
   WHERE c.relnamespace = 'public'::regnamespace
     AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     AND (NOT c.relispartition OR c.relname LIKE '%\\_default')
     -- sequences of partitions follow their partition; identity sequences of parents stay in
     AND NOT (c.relkind = 'S' AND EXISTS (
           SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
              AND t.relispartition AND t.relname NOT LIKE '%\\_default'))`;

const KIND = `CASE r.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'matview' ELSE 'sequence' END`;

const MATRIX_SQL = `
WITH roles(who) AS (SELECT unnest($1::text[])),
rels AS (${RELATIONS}),
funcs AS (
  SELECT p.oid, p.oid::regprocedure::text AS sig, p.proowner, p.prosecdef, p.proconfig
    FROM pg_proc p
   WHERE p.pronamespace = 'public'::regnamespace
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')),
lines(kind, object, who, what) AS (
  -- who owns each object
  -- (text casts: a UNION column typed name would cut long signatures at 63 bytes)
  SELECT ${KIND}, r.relname::text, 'owner', pg_get_userbyid(r.relowner)::text FROM rels r
  UNION ALL
  SELECT 'function', f.sig, 'owner', pg_get_userbyid(f.proowner) FROM funcs f
  UNION ALL
  -- table, view and matview privileges per role (has_table_privilege: grants, PUBLIC, membership, ownership)
  SELECT ${KIND}, r.relname, ro.who, x.what
    FROM rels r CROSS JOIN roles ro
    CROSS JOIN LATERAL (
      SELECT string_agg(p, ',' ORDER BY o) AS what
        FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) WITH ORDINALITY AS u(p, o)
       WHERE has_table_privilege(ro.who, r.oid, p)) x
   WHERE r.relkind <> 'S' AND x.what IS NOT NULL
  UNION ALL
  SELECT 'sequence', r.relname, ro.who, x.what
    FROM rels r CROSS JOIN roles ro
    CROSS JOIN LATERAL (
      SELECT string_agg(p, ',' ORDER BY o) AS what
        FROM unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) WITH ORDINALITY AS u(p, o)
       WHERE has_sequence_privilege(ro.who, r.oid, p)) x
   WHERE r.relkind = 'S' AND x.what IS NOT NULL
  UNION ALL
  -- column grants (has_table_privilege does not see them)
  SELECT 'column', r.relname || '.' || a.attname, CASE WHEN acl.grantee = 0 THEN 'public' ELSE pg_get_userbyid(acl.grantee) END,
         string_agg(acl.privilege_type, ',' ORDER BY acl.privilege_type)
    FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attacl IS NOT NULL
    CROSS JOIN LATERAL aclexplode(a.attacl) acl
   GROUP BY r.relname, a.attname, acl.grantee
  UNION ALL
  SELECT 'function', f.sig, ro.who, 'EXECUTE'
    FROM funcs f CROSS JOIN roles ro WHERE has_function_privilege(ro.who, f.oid, 'EXECUTE')
  UNION ALL
  SELECT 'function', f.sig, 'security', CASE WHEN f.prosecdef THEN 'definer' ELSE 'invoker' END
         || coalesce(' ' || (SELECT c FROM unnest(f.proconfig) c WHERE c LIKE 'search\\_path=%'), '')
    FROM funcs f
  UNION ALL
  -- schemas: every schema of the database, for CREATE; public for USAGE too
  SELECT 'schema', n.nspname, ro.who, x.what
    FROM pg_namespace n CROSS JOIN roles ro
    CROSS JOIN LATERAL (
      SELECT string_agg(p, ',' ORDER BY o) AS what
        FROM unnest(ARRAY['USAGE', 'CREATE']) WITH ORDINALITY AS u(p, o)
       WHERE has_schema_privilege(ro.who, n.oid, p) AND (p = 'CREATE' OR n.nspname = 'public')) x
   WHERE n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' AND x.what IS NOT NULL
  UNION ALL
  SELECT 'database', '(this)', ro.who, x.what
    FROM roles ro
    CROSS JOIN LATERAL (
      SELECT string_agg(p, ',' ORDER BY o) AS what
        FROM unnest(ARRAY['CONNECT', 'CREATE', 'TEMPORARY']) WITH ORDINALITY AS u(p, o)
       WHERE has_database_privilege(ro.who, current_database(), p)) x
   WHERE x.what IS NOT NULL
  UNION ALL
  -- role attributes and memberships (cluster-wide)
  SELECT 'role', a.rolname, 'attributes',
         concat_ws(',', CASE WHEN a.rolsuper THEN 'SUPERUSER' END, CASE WHEN a.rolcreaterole THEN 'CREATEROLE' END,
                   CASE WHEN a.rolcreatedb THEN 'CREATEDB' END, CASE WHEN a.rolcanlogin THEN 'LOGIN' END,
                   CASE WHEN a.rolreplication THEN 'REPLICATION' END, CASE WHEN a.rolbypassrls THEN 'BYPASSRLS' END)
    FROM pg_roles a WHERE a.rolname = ANY ($1::text[])
  UNION ALL
  SELECT 'role', m.rolname, 'member of', string_agg(g.rolname, ',' ORDER BY g.rolname)
    FROM pg_roles m JOIN pg_auth_members am ON am.member = m.oid JOIN pg_roles g ON g.oid = am.roleid
   WHERE m.rolname = ANY ($1::text[])
   GROUP BY m.rolname
)
SELECT kind || E'\\t' || object || E'\\t' || who || E'\\t' || what AS line FROM lines ORDER BY 1`;

/** The matrix of the connected database, one sorted line per (object, who). */
export async function readPrivilegeMatrix(db: CatalogReader): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(MATRIX_SQL, [[...MATRIX_ROLES]]);
  return rows.map((r) => r.line).sort();
}

/** Lines expected but absent (missing) and present but not expected (extra). */
export interface MatrixDiff {
  missing: string[];
  extra: string[];
}

/** Compares an actual matrix with the expected one (blank lines and # comments in expected are ignored). */
export function diffPrivilegeMatrix(expected: readonly string[], actual: readonly string[]): MatrixDiff {
  const want = new Set(expected.filter((l) => l.trim() !== '' && !l.startsWith('#')));
  const have = new Set(actual);
  return { missing: [...want].filter((l) => !have.has(l)).sort(), extra: [...have].filter((l) => !want.has(l)).sort() };
}
