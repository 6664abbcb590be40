// A catalog snapshot: the schema as ordered text lines per kind of object, read from pg_catalog
// without OIDs, so two databases built the same way give equal snapshots.
import type pg from 'pg';
import { PARTITION_DIFFERENCES, notMaintenanceTable } from './partitionSnapshot.ts';

/** Schema objects by section; each section's lines are sorted. */
export type CatalogSnapshot = Record<SnapshotSection, string[]>;

/** The kinds of object a snapshot covers. */
export type SnapshotSection = keyof typeof SECTIONS;

// User schemas only; objects that belong to an extension are the extension's business.
const USER_NS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
             AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;
const notExtension = (oid: string, catalog: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;
// A sorted ACL as text (aclitem arrays keep grant order).
const acl = (column: string): string => `array_to_string(ARRAY(SELECT x::text FROM unnest(${column}) x ORDER BY 1), ',')`;

// Month partitions and archived months (partition maintenance makes them, not migrations) are
// left out of the per-object sections and compared with their parent in `partitions` instead.
const SECTIONS = {
  schemas: `
    SELECT n.nspname || coalesce(' acl=' || ${acl('n.nspacl')}, '') AS line
      FROM pg_namespace n
     WHERE ${USER_NS} AND ${notExtension('n.oid', 'pg_namespace')}`,

  extensions: `SELECT extname AS line FROM pg_extension`,

  tables: `
    SELECT format('%s.%s kind=%s persistence=%s rls=%s force_rls=%s', n.nspname, c.relname, c.relkind,
                  c.relpersistence, c.relrowsecurity, c.relforcerowsecurity)
           || coalesce(' partition_key=' || pg_get_partkeydef(c.oid), '')
           || coalesce(' bound=' || pg_get_expr(c.relpartbound, c.oid), '')
           || CASE WHEN c.relkind IN ('v', 'm') THEN ' view=' || pg_get_viewdef(c.oid) ELSE '' END
           || coalesce(' options=' || array_to_string(c.reloptions, ','), '') AS line
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${USER_NS}
       AND ${notExtension('c.oid', 'pg_class')} AND ${notMaintenanceTable('c.oid')}`,

  columns: `
    SELECT format('%s.%s #%s %s %s notnull=%s default=%s generated=%s identity=%s collation=%s',
                  n.nspname, c.relname, lpad((row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum))::text, 4, '0'),
                  a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  coalesce(pg_get_expr(d.adbin, d.adrelid), '-'), a.attgenerated, a.attidentity,
                  coalesce(co.collname, '-')) AS line
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${USER_NS}
       AND ${notExtension('c.oid', 'pg_class')} AND ${notMaintenanceTable('c.oid')}`,

  indexes: `
    SELECT pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid AS line
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_NS} AND ${notExtension('i.indrelid', 'pg_class')} AND ${notMaintenanceTable('i.indrelid')}`,

  constraints: `
    SELECT format('%s.%s %s %s validated=%s deferrable=%s', n.nspname, coalesce(c.relname, t.typname), k.conname,
                  pg_get_constraintdef(k.oid), k.convalidated, k.condeferrable) AS line
      FROM pg_constraint k
      JOIN pg_namespace n ON n.oid = k.connamespace
      LEFT JOIN pg_class c ON c.oid = k.conrelid
      LEFT JOIN pg_type t ON t.oid = k.contypid
     WHERE ${USER_NS} AND ${notExtension('k.oid', 'pg_constraint')}
       AND (k.conrelid = 0 OR (${notExtension('k.conrelid', 'pg_class')} AND ${notMaintenanceTable('k.conrelid')}))`,

  functions: `
    SELECT format('%s.%s(%s) kind=%s def_md5=%s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind,
                  CASE WHEN p.prokind IN ('f', 'p', 'w') THEN md5(pg_get_functiondef(p.oid)) ELSE '-' END) AS line
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${USER_NS} AND ${notExtension('p.oid', 'pg_proc')}`,

  triggers: `
    SELECT pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text AS line
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT t.tgisinternal AND ${USER_NS} AND ${notMaintenanceTable('t.tgrelid')}`,

  policies: `
    SELECT format('%s.%s %s %s cmd=%s roles=%s using=%s check=%s', schemaname, tablename, policyname, permissive, cmd,
                  array_to_string(ARRAY(SELECT r FROM unnest(roles) r ORDER BY 1), ','), coalesce(qual, '-'),
                  coalesce(with_check, '-')) AS line
      FROM pg_policies`,

  grants: `
    SELECT format('%s.%s %s', n.nspname, c.relname, ${acl('c.relacl')}) AS line
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relacl IS NOT NULL AND ${USER_NS} AND ${notMaintenanceTable('c.oid')}
    UNION ALL
    SELECT format('%s.%s.%s %s', n.nspname, c.relname, a.attname, ${acl('a.attacl')})
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE a.attacl IS NOT NULL AND NOT a.attisdropped AND ${USER_NS} AND ${notMaintenanceTable('c.oid')}
    UNION ALL
    SELECT format('%s.%s(%s) %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), ${acl('p.proacl')})
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.proacl IS NOT NULL AND ${USER_NS}
    UNION ALL
    SELECT format('default %s %s %s', pg_get_userbyid(d.defaclrole), d.defaclobjtype, ${acl('d.defaclacl')})
      FROM pg_default_acl d`,

  types: `
    SELECT format('%s.%s kind=%s', n.nspname, t.typname, t.typtype)
           || CASE WHEN t.typtype = 'e'
                   THEN ' labels=' || array_to_string(ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), ',')
                   ELSE '' END
           || CASE WHEN t.typtype = 'd' THEN ' base=' || format_type(t.typbasetype, t.typtypmod) || ' notnull=' || t.typnotnull ELSE '' END AS line
      FROM pg_type t
      JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype IN ('e', 'd') AND ${USER_NS} AND ${notExtension('t.oid', 'pg_type')}`,

  partitions: PARTITION_DIFFERENCES,
} as const;

/** Reads the snapshot of the database the client is connected to. */
export async function catalogSnapshot(client: pg.Client): Promise<CatalogSnapshot> {
  const out = {} as CatalogSnapshot;
  for (const [section, text] of Object.entries(SECTIONS) as [SnapshotSection, string][]) {
    const { rows } = await client.query<{ line: string }>(text);
    out[section] = rows.map((r) => r.line).sort();
  }
  return out;
}

/** What one section has only on one side. */
export interface SnapshotDifference {
  section: SnapshotSection;
  /** In the snapshot the migrations produce, not in the live database. */
  missing: string[];
  /** In the live database only: made by hand, or by something other than the migrations. */
  extra: string[];
}

/** Differences between the expected (migrations) and the actual (live) snapshot; empty when equal. */
export function diffSnapshots(expected: CatalogSnapshot, actual: CatalogSnapshot): SnapshotDifference[] {
  const out: SnapshotDifference[] = [];
  for (const section of Object.keys(SECTIONS) as SnapshotSection[]) {
    const want = new Set(expected[section]);
    const have = new Set(actual[section]);
    const missing = expected[section].filter((l) => !have.has(l));
    const extra = actual[section].filter((l) => !want.has(l));
    if (missing.length > 0 || extra.length > 0) out.push({ section, missing, extra });
  }
  return out;
}
