// `pgpress audit verify`: recomputes every audit hash chain in one snapshot and checks that the
// log is complete — the audit triggers are in place and enabled, and no recent row of an audited
// table was written without its entry. Read-only; run it as the owner or a superuser (it reads the
// audited tables as well as the log).
import type { Cluster } from '../db/cluster.ts';
import type { Queryable } from '../db/queryable.ts';
import { checkChain, type AuditFinding, type ChainEntry, type Removal } from './auditChain.ts';
import { entryHash, type StoredEntry } from './auditPayload.ts';
import { AUDITED, auditTriggers, chainHeads, closeEntries, declareEntries, fetchEntries, logWindow, unauditedRows } from './auditQueries.ts';

export type { AuditFinding } from './auditChain.ts';

/** What verification read and found. */
export interface AuditReport {
  entries: number;
  chains: number;
  /** Each chain's head (position and hash): keep them outside the database, and a later rewrite of
   *  the whole log by someone who can also rewrite the heads still shows (docs/audit.md). */
  heads: { chain: number; seq: number; hash: string }[];
  /** Removals recorded by retention (RETIRE entries), accepted as gaps. */
  removals: Removal[];
  findings: AuditFinding[];
}

interface EntryRow {
  id: string; at: string; txid: string; actor_id: string | null; db_role: string | null; actor_role: string | null;
  table_name: string; operation: string; row_id: string | null; row_key: string | null; changed: string | null;
  old_row: string | null; new_row: string | null; chain: number | null; seq: string | null; prev_hash: Buffer | null; hash: Buffer | null;
}

/** Ids listed per unaudited table (the count is always complete). */
const UNAUDITED_IDS = 20;

/** Verifies the audit log of the database behind cluster (one REPEATABLE READ transaction). */
export async function verifyAuditLog(cluster: Cluster, opts: { deadlineMs?: number } = {}): Promise<AuditReport> {
  const { value } = await cluster.tx((q) => verifyIn(q), { isolation: 'repeatable read', lane: 'background', deadlineMs: opts.deadlineMs ?? 6 * 3600_000 });
  return value;
}

async function verifyIn(q: Queryable): Promise<AuditReport> {
  const findings: AuditFinding[] = [];
  const heads = (await q.query<{ chain: number; seq: string; hash: string }>(chainHeads)).rows;
  const perChain = new Map<number, ChainEntry[]>(heads.map((h) => [h.chain, []]));
  const removals: Removal[] = [];
  let entries = 0;
  await q.query(declareEntries);
  for (;;) {
    const { rows } = await q.query<EntryRow>(fetchEntries);
    if (rows.length === 0) break;
    for (const r of rows) {
      entries++;
      const e = toStored(r);
      if (e.chain === null || e.seq === null || e.hash === null || e.prevHash === null) {
        findings.push({ kind: 'inserted', id: e.id, message: `id ${e.id} (${e.operation} on ${e.table}): in no chain — written outside the audit trigger (inserted)` });
        continue;
      }
      const list = perChain.get(e.chain);
      if (!list) {
        findings.push({ kind: 'inserted', id: e.id, chain: e.chain, seq: e.seq, message: `id ${e.id}: in chain ${e.chain}, which has no head (inserted)` });
        continue;
      }
      const selfConsistent = entryHash(e.prevHash, e).equals(e.hash);
      list.push({ id: e.id, seq: e.seq, prevHash: e.prevHash.toString('hex'), hash: e.hash.toString('hex'), selfConsistent });
      if (selfConsistent && e.operation === 'RETIRE') removals.push(...removalsOf(e));
    }
  }
  await q.query(closeEntries);
  for (const h of heads) findings.push(...checkChain(h.chain, perChain.get(h.chain)!, { seq: Number(h.seq), hash: h.hash }, removals));
  findings.push(...(await completeness(q)));
  return { entries, chains: heads.length, heads: heads.map((h) => ({ chain: h.chain, seq: Number(h.seq), hash: h.hash })), removals, findings };
}

function toStored(r: EntryRow): StoredEntry {
  return {
    id: r.id, at: r.at, txid: r.txid, actorId: r.actor_id, dbRole: r.db_role, actorRole: r.actor_role, table: r.table_name,
    operation: r.operation, rowId: r.row_id, rowKey: r.row_key, changed: r.changed, oldRow: r.old_row, newRow: r.new_row,
    chain: r.chain, seq: r.seq === null ? null : Number(r.seq), prevHash: r.prev_hash, hash: r.hash,
  };
}

function removalsOf(e: StoredEntry): Removal[] {
  const detail = JSON.parse(e.newRow ?? '{}') as { chains?: { chain: number; first: number; last: number; last_hash: string }[] };
  return (detail.chains ?? []).map((c) => ({ chain: c.chain, first: c.first, last: c.last, lastHash: c.last_hash, recordedBy: e.id }));
}

/** Triggers missing or disabled, and rows written without their entry. */
async function completeness(q: Queryable): Promise<AuditFinding[]> {
  const out: AuditFinding[] = [];
  const triggers = (await q.query<{ table_name: string; trigger: string; enabled: boolean; function: string }>(auditTriggers, [AUDITED.map((a) => a.table)])).rows;
  for (const { table } of AUDITED) {
    for (const [name, fn] of [[`${table}_audit`, 'pgpress_audit_row'], [`${table}_audit_truncate`, 'pgpress_audit_truncate']] as const) {
      const t = triggers.find((x) => x.table_name === table && x.trigger === name);
      if (!t) out.push({ kind: 'trigger', message: `trigger ${name} on ${table} is missing: writes to ${table} are not audited` });
      else if (!t.enabled) out.push({ kind: 'trigger', message: `trigger ${name} on ${table} is disabled: writes to ${table} are not audited` });
      else if (t.function !== fn) out.push({ kind: 'trigger', message: `trigger ${name} on ${table} calls ${t.function}, not ${fn}` });
    }
  }
  const window = (await q.query<{ xacts: number }>(logWindow)).rows[0]!.xacts;
  for (const { table, key } of AUDITED) {
    if (key !== 'id') continue; // tags: see docs/security.md (no id to match an entry by index)
    const { n, ids } = (await q.query<{ n: number; ids: string[] | null }>(unauditedRows(table), [window, UNAUDITED_IDS, table])).rows[0]!;
    if (n > 0) {
      out.push({ kind: 'unaudited', message: `${table}: ${n} row(s) written without an audit entry (the trigger was off): id ${(ids ?? []).join(', ')}${n > UNAUDITED_IDS ? ', …' : ''}` });
    }
  }
  return out;
}

/** The report as lines for people. */
export function formatAuditReport(r: AuditReport): string[] {
  const lines = [`audit log: ${r.entries} entries in ${r.chains} chains; ${r.removals.length} chain range(s) removed by retention`];
  if (r.findings.length === 0) lines.push('ok: every chain verifies, the audit triggers are on, no unaudited write found');
  for (const f of r.findings) lines.push(`${f.kind.toUpperCase()}: ${f.message}`);
  return lines;
}
