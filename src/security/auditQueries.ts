// Named SQL for audit verification. Every hashed field is read as PostgreSQL's text of it, the
// way pgpress_audit_payload (migration 0082) reads it when the entry is written.
import { quoteIdent, sql, type NamedQuery } from '../db/sql.ts';

/** The tables the audit triggers cover (migration 0085), with the column that keys their rows. */
export const AUDITED = [
  { table: 'users', key: 'id' },
  { table: 'articles', key: 'id' },
  { table: 'comments', key: 'id' },
  { table: 'tags', key: 'name' },
] as const;

export const chainHeads = sql('audit.heads', "SELECT chain, seq::text AS seq, encode(hash, 'hex') AS hash FROM pgpress_audit_chain ORDER BY chain");

/** Every entry in chain order (entries outside any chain last), read through a cursor. */
export const declareEntries = sql(
  'audit.declareEntries',
  `DECLARE pgpress_audit_entries NO SCROLL CURSOR FOR
   SELECT id::text AS id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, txid::text AS txid,
          actor_id::text AS actor_id, db_role, actor_role, table_name, operation, row_id::text AS row_id, row_key,
          changed_columns::text AS changed, old_row::text AS old_row, new_row::text AS new_row,
          chain, seq::text AS seq, prev_hash, hash
     FROM audit_log a ORDER BY a.chain NULLS LAST, a.seq, a.id`, // qualified: the bare names would be the text aliases above
);
export const fetchEntries = sql('audit.fetchEntries', 'FETCH 2000 FROM pgpress_audit_entries');
export const closeEntries = sql('audit.closeEntries', 'CLOSE pgpress_audit_entries');

/** The audit triggers of each audited table, whether enabled, and the function each calls. */
export const auditTriggers = sql(
  'audit.triggers',
  `SELECT c.relname AS table_name, t.tgname AS trigger, t.tgenabled <> 'D' AS enabled, p.proname AS function
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
    WHERE c.relname = ANY ($1) AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'audit_log'::regclass) AND NOT t.tgisinternal`,
);

/** How far back (in transactions) the log reaches: rows written since have an entry. */
export const logWindow = sql(
  'audit.window',
  `SELECT least(2147483647, coalesce(txid_current() - min(txid), 0))::int AS xacts FROM audit_log WHERE operation <> 'RETIRE'`,
);

/** Rows of an id-keyed table whose current version (written within $1 transactions) has no entry
 *  of its writing transaction: written with the audit trigger off. Up to $2 ids, and the count. */
export function unauditedRows(table: string): NamedQuery {
  return sql(
    `audit.unaudited.${table}`,
    `SELECT count(*)::int AS n, (array_agg(r.id::text ORDER BY r.id))[1:$2] AS ids FROM ${quoteIdent(table)} r
      WHERE age(r.xmin) <= $1
        AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.table_name = $3 AND a.row_id = r.id AND a.txid % 4294967296 = r.xmin::text::bigint)`,
  );
}
