// Btree index bloat: measured with pgstattuple's pgstatindex when the extension is there, else
// estimated from the catalog (reltuples × the tuple width pg_stats gives, at the index's
// fillfactor, against its real page count). The estimate ignores null bitmaps and inner pages,
// so it reads a few percent high on a fresh index; expression indexes have no pg_stats width and
// are not estimated.
import type { Queryable } from '../../db/cluster.ts';
import { sql } from '../../db/sql.ts';

/** One index and how much of it is waste (0–100). */
export interface IndexBloat {
  schema: string;
  index: string;
  bytes: number;
  bloatPct: number;
}

const hasPgstattuple = sql('jobs.bloat.hasExtension', "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple') AS ok");

// Valid btree indexes outside the system schemas, at least $1 bytes, with what the estimate needs.
const indexes = sql(
  'jobs.bloat.indexes',
  `SELECT ic.oid::int8::text AS oid, n.nspname AS schema, ic.relname AS index, pg_relation_size(ic.oid)::float8 AS bytes,
          ic.relpages::float8 AS pages, ic.reltuples::float8 AS tuples,
          coalesce((SELECT substring(o FROM 'fillfactor=(\\d+)')::int FROM unnest(ic.reloptions) o WHERE o LIKE 'fillfactor=%'), 90) AS fillfactor,
          (SELECT CASE WHEN count(s.avg_width) = count(*) THEN sum(s.avg_width) END
           FROM unnest(i.indkey::int2[]) k
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k
           LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = tc.relname AND s.attname = a.attname)::float8 AS width
   FROM pg_index i
   JOIN pg_class ic ON ic.oid = i.indexrelid
   JOIN pg_class tc ON tc.oid = i.indrelid
   JOIN pg_namespace n ON n.oid = ic.relnamespace
   JOIN pg_am am ON am.oid = ic.relam
   WHERE am.amname = 'btree' AND ic.relkind = 'i' AND i.indisvalid
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
     AND pg_relation_size(ic.oid) >= $1
   ORDER BY pg_relation_size(ic.oid) DESC`,
);
const leafDensity = sql('jobs.bloat.pgstatindex', 'SELECT avg_leaf_density::float8 AS density FROM pgstatindex($1::int8::oid::regclass)');

const PAGE_USABLE = 8192 - 24 - 16; // page header and btree special space
const maxalign = (n: number): number => Math.ceil(n / 8) * 8;

/** 'pgstattuple' when the extension is installed (migration 0051 creates it where it may), else 'estimate'. */
export async function bloatMethod(db: Queryable): Promise<'pgstattuple' | 'estimate'> {
  // Never created here: an extension made outside the migrations would show as schema drift.
  return (await db.query<{ ok: boolean }>(hasPgstattuple)).rows[0]!.ok ? 'pgstattuple' : 'estimate';
}

/** The bloat of every btree index of at least minBytes, by the given method (unmeasurable ones left out). */
export async function indexBloat(db: Queryable, minBytes: number, method: 'pgstattuple' | 'estimate'): Promise<IndexBloat[]> {
  const { rows } = await db.query<{ oid: string; schema: string; index: string; bytes: number; pages: number; tuples: number; fillfactor: number; width: number | null }>(indexes, [minBytes]);
  const out: IndexBloat[] = [];
  for (const r of rows) {
    let bloatPct: number | undefined;
    if (method === 'pgstattuple') {
      const density = (await db.query<{ density: number }>(leafDensity, [r.oid])).rows[0]!.density;
      if (Number.isFinite(density)) bloatPct = 100 * (1 - density / r.fillfactor);
    } else if (r.width !== null && r.tuples >= 0 && r.pages > 1) {
      // 8-byte index tuple header + data, aligned, plus a 4-byte line pointer.
      const expectedPages = 1 + Math.ceil((r.tuples * (4 + maxalign(8 + r.width))) / ((PAGE_USABLE * r.fillfactor) / 100));
      bloatPct = 100 * (1 - expectedPages / r.pages);
    }
    if (bloatPct !== undefined) out.push({ schema: r.schema, index: r.index, bytes: r.bytes, bloatPct: Math.max(0, Math.round(bloatPct * 10) / 10) });
  }
  return out;
}
