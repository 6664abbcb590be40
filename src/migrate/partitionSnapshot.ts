// The tables partition maintenance makes (month partitions and archived months) are not in any
// migration: the catalog snapshot leaves them out of its per-object sections and instead lists,
// in its `partitions` section, only where one of them differs from its partitioned parent.

/**
 * Maintenance's tables, with their parent: `<parent>_pYYYY_MM` attached to `<parent>` with exactly
 * that UTC month's bound, and `<parent>_pYYYY_MM_archived` (detached, kept by PARTITION_ARCHIVE).
 * A partition with another name or bound (the `_default` one, or one made by hand) is an
 * ordinary table to the snapshot. Columns: oid, parent, attached, qname, parent_qname, label.
 */
export const MAINTENANCE_TABLES = `
  SELECT c.oid,
         p.oid AS parent,
         c.relispartition AS attached,
         format('%I.%I', n.nspname, c.relname) AS qname,
         format('%I.%I', n.nspname, p.relname) AS parent_qname,
         format('%s.%s (%s of %s)', n.nspname, c.relname,
                CASE WHEN c.relispartition THEN 'month partition' ELSE 'archived partition' END, p.relname) AS label
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class p ON p.relnamespace = c.relnamespace AND p.relkind = 'p'
                   AND left(c.relname, length(p.relname)) = p.relname
   CROSS JOIN LATERAL (SELECT substr(c.relname, length(p.relname) + 1) AS suffix) s
   CROSS JOIN LATERAL (
         SELECT CASE WHEN s.suffix ~ '^_p[0-9]{4}_(0[1-9]|1[0-2])' THEN to_date(substr(s.suffix, 3, 7), 'YYYY_MM')::timestamp END AS month
         ) mo
   WHERE c.relkind = 'r'
     AND (   (    c.relispartition
              AND s.suffix ~ '^_p[0-9]{4}_(0[1-9]|1[0-2])$'
              AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid AND i.inhparent = p.oid)
              -- the same text pg_get_expr gives (both render timestamptz in the session's zone)
              AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES FROM (%L) TO (%L)',
                    mo.month AT TIME ZONE 'UTC', (mo.month + interval '1 month') AT TIME ZONE 'UTC'))
          OR (NOT c.relispartition AND s.suffix ~ '^_p[0-9]{4}_(0[1-9]|1[0-2])_archived$'))`;

/** A condition true when the relation `oid` is not one of maintenance's tables. */
export const notMaintenanceTable = (oid: string): string => `${oid} NOT IN (SELECT mt.oid FROM (${MAINTENANCE_TABLES}) mt)`;

/**
 * Where a maintenance table differs from its parent. Columns, indexes and constraints are
 * compared without names (partition index and key names are generated) and without defaults or
 * identity (a partition does not need them); a duplicate of a parent's index is not a difference.
 * An attached partition must have all of its parent's; an archived one must have nothing more (the
 * parent may have gained columns or indexes since it was detached). Triggers, options, row
 * security and grants: only what the member has on its own.
 */
export const PARTITION_DIFFERENCES = `
  WITH m AS (${MAINTENANCE_TABLES}),
  rels AS (SELECT oid FROM m UNION SELECT parent FROM m),
  shape AS (
    SELECT a.attrelid AS rel,
           format('column %s %s notnull=%s collation=%s', a.attname, format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, coalesce(co.collname, '-')) AS item,
           NULL::text AS name
      FROM pg_attribute a
      LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
     WHERE a.attrelid IN (SELECT oid FROM rels) AND a.attnum > 0 AND NOT a.attisdropped
    UNION
    SELECT i.indrelid,
           format('index %s%s valid=%s', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,
                  substr(d.def, strpos(d.def, ' USING ') + 1), i.indisvalid),
           i.indexrelid::regclass::text
      FROM pg_index i
     CROSS JOIN LATERAL (SELECT pg_get_indexdef(i.indexrelid) AS def) d
     WHERE i.indrelid IN (SELECT oid FROM rels)
    UNION
    SELECT k.conrelid,
           format('constraint %s%s validated=%s deferrable=%s',
                  CASE WHEN k.contype IN ('p', 'u', 'x') THEN '' ELSE k.conname || ' ' END,
                  pg_get_constraintdef(k.oid), k.convalidated, k.condeferrable),
           NULL
      FROM pg_constraint k
     WHERE k.conrelid IN (SELECT oid FROM rels)
  )
  -- the object's own name only in the message: generated names differ from partition to partition
  SELECT m.label || ' has ' || s.item || coalesce(' (' || s.name || ')', '') AS line
    FROM m JOIN shape s ON s.rel = m.oid
   WHERE NOT EXISTS (SELECT 1 FROM shape ps WHERE ps.rel = m.parent AND ps.item = s.item)
  UNION
  SELECT m.label || ' lacks ' || ps.item
    FROM m JOIN shape ps ON ps.rel = m.parent
   WHERE m.attached AND NOT EXISTS (SELECT 1 FROM shape s WHERE s.rel = m.oid AND s.item = ps.item)
  UNION
  -- a trigger of its own (a cloned row trigger reads as the parent's once the names are swapped)
  SELECT m.label || ' has trigger ' || t.def
    FROM m
    JOIN pg_trigger tg ON tg.tgrelid = m.oid AND NOT tg.tgisinternal
   CROSS JOIN LATERAL (SELECT replace(pg_get_triggerdef(tg.oid), ' ON ' || m.qname || ' ', ' ON ' || m.parent_qname || ' ') AS def) t
   WHERE NOT EXISTS (SELECT 1 FROM pg_trigger pt WHERE pt.tgrelid = m.parent AND pg_get_triggerdef(pt.oid) = t.def)
  UNION
  SELECT m.label || ' has ' || concat_ws(' ',
           CASE WHEN c.relpersistence <> p.relpersistence THEN 'persistence=' || c.relpersistence::text END,
           CASE WHEN c.relrowsecurity THEN 'rls=t' END,
           'options=' || array_to_string(c.reloptions, ','))
    FROM m JOIN pg_class c ON c.oid = m.oid JOIN pg_class p ON p.oid = m.parent
   WHERE c.relpersistence <> p.relpersistence OR c.relrowsecurity OR c.reloptions IS NOT NULL
  UNION
  SELECT m.label || ' grants ' || array_to_string(ARRAY(SELECT x::text FROM unnest(c.relacl) x ORDER BY 1), ',')
    FROM m JOIN pg_class c ON c.oid = m.oid JOIN pg_class p ON p.oid = m.parent
   WHERE c.relacl IS NOT NULL AND c.relacl IS DISTINCT FROM p.relacl
  UNION
  SELECT m.label || ' grants on ' || a.attname || ' ' || array_to_string(ARRAY(SELECT x::text FROM unnest(a.attacl) x ORDER BY 1), ',')
    FROM m JOIN pg_attribute a ON a.attrelid = m.oid
   WHERE a.attacl IS NOT NULL AND NOT a.attisdropped`;
