// Audit completeness: rows of the audited tables whose current version has no audit row.
//
// The measure: each row's xmin is the transaction that wrote its current version; the audit
// trigger records txid_current() of that same transaction (its low 32 bits are the xid). A row
// written within the last AUDIT_WINDOW_XACTS transactions with no audit_log row of its table, id
// and xid was written with the trigger bypassed (disabled, session_replication_role = replica).
// Deletes leave no row to check and are not counted. A write inside a subtransaction (SAVEPOINT,
// a PL/pgSQL EXCEPTION block) has its subtransaction's xid and would be miscounted; pgpress writes
// no audited table in one.
import { quoteIdent, sql, type NamedQuery } from '../../db/sql.ts';
import { gauge, type Collector, type Sample } from './types.ts';

/** The tables the audit trigger covers (migration 0009). */
export const AUDITED_TABLES = ['users', 'articles', 'comments'] as const;
/** Rows whose writing transaction is at most this many transactions old are checked. */
export const AUDIT_WINDOW_XACTS = 1_000_000;

const missing = new Map<string, NamedQuery>(
  AUDITED_TABLES.map((t) => [
    t,
    sql(
      `metrics.auditMissing.${t}`,
      `SELECT count(*)::int AS n FROM ${quoteIdent(t)} r
       WHERE age(r.xmin) <= $1
         AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.table_name = $2 AND a.row_id = r.id AND a.txid % 4294967296 = r.xmin::text::bigint)`,
    ),
  ]),
);

/** Audited rows written recently without an audit row, per table. */
export const auditCollector: Collector = {
  name: 'audit',
  // A scan of the recent rows of each audited table.
  slow: true,
  families: [
    gauge('pgpress_audit_missing_rows', `Rows of each audited table written in the last ${AUDIT_WINDOW_XACTS} transactions whose current version has no audit_log row (0: complete).`, ['table']),
  ],
  async collect(db) {
    const out: Sample[] = [];
    for (const table of AUDITED_TABLES) {
      const n = (await db.query<{ n: number }>(missing.get(table)!, [AUDIT_WINDOW_XACTS, table])).rows[0]!.n;
      out.push({ name: 'pgpress_audit_missing_rows', labels: { table }, value: n });
    }
    return out;
  },
};
