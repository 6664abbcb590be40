// Audit completeness: rows of the audited tables whose current version has no audit row.
//
// The measure: each row's xmin is the transaction that wrote its current version; the audit
// trigger records txid_current() of that same transaction (its low 32 bits are the xid). A row
// written within the last AUDIT_WINDOW_XACTS transactions with no audit_log row of its table, id
// and xid was written with the trigger bypassed (disabled, session_replication_role = replica).
// Deletes leave no row to check and are not counted. A write inside a subtransaction (SAVEPOINT,
// a PL/pgSQL EXCEPTION block) has its subtransaction's xid and would be miscounted; pgpress writes
// no audited table in one. tags (keyed by name, no id to find its entries by index) is covered by
// the trigger check only.
//
// The triggers: each audited table's row trigger (<table>_audit) and TRUNCATE trigger
// (<table>_audit_truncate) must exist and be enabled; one missing or disabled counts.
import { quoteIdent, sql, type NamedQuery } from '../../db/sql.ts';
import { gauge, type Collector, type Sample } from './types.ts';

/** The id-keyed tables the audit trigger covers (migrations 0009, 0085). */
export const AUDITED_TABLES = ['users', 'articles', 'comments'] as const;
/** Every table with audit triggers (migration 0085). */
export const AUDIT_TRIGGER_TABLES = ['users', 'articles', 'comments', 'tags'] as const;
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

const triggersOff = sql(
  'metrics.auditTriggersOff',
  `SELECT t.name AS table, 2 - count(g.tgname) FILTER (WHERE g.tgenabled <> 'D')::int AS n
     FROM unnest($1::text[]) AS t(name)
     LEFT JOIN pg_class c ON c.relname = t.name AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'audit_log'::regclass)
     LEFT JOIN pg_trigger g ON g.tgrelid = c.oid AND g.tgname IN (t.name || '_audit', t.name || '_audit_truncate')
    GROUP BY t.name ORDER BY t.name`,
);

/** Audited rows written recently without an audit row, and audit triggers off, per table. */
export const auditCollector: Collector = {
  name: 'audit',
  // A scan of the recent rows of each audited table.
  slow: true,
  families: [
    gauge('pgpress_audit_missing_rows', `Rows of each audited table written in the last ${AUDIT_WINDOW_XACTS} transactions whose current version has no audit_log row (0: complete).`, ['table']),
    gauge('pgpress_audit_triggers_off', 'Audit triggers of each audited table (row and TRUNCATE) missing or disabled (0: audited).', ['table']),
  ],
  async collect(db) {
    const out: Sample[] = [];
    for (const table of AUDITED_TABLES) {
      const n = (await db.query<{ n: number }>(missing.get(table)!, [AUDIT_WINDOW_XACTS, table])).rows[0]!.n;
      out.push({ name: 'pgpress_audit_missing_rows', labels: { table }, value: n });
    }
    for (const r of (await db.query<{ table: string; n: number }>(triggersOff, [AUDIT_TRIGGER_TABLES])).rows) {
      out.push({ name: 'pgpress_audit_triggers_off', labels: { table: r.table }, value: r.n });
    }
    return out;
  },
};
