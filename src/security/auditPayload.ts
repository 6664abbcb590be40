// The bytes an audit entry's hash covers, rebuilt from its stored columns: the same encoding as
// pgpress_audit_payload (migration 0082) — each field as text, written `<octet length>:<text>`,
// or `-` for NULL. Kept in TypeScript so verification trusts no function in the database it checks.
import { createHash } from 'node:crypto';

/** One audit entry as stored, every hashed field as PostgreSQL's text of it (see auditQueries.ts). */
export interface StoredEntry {
  id: string;
  /** occurred_at in UTC, 'YYYY-MM-DDTHH:MM:SS.ffffffZ'. */
  at: string;
  txid: string;
  actorId: string | null;
  dbRole: string | null;
  actorRole: string | null;
  table: string;
  operation: string;
  rowId: string | null;
  rowKey: string | null;
  changed: string | null;
  oldRow: string | null;
  newRow: string | null;
  chain: number | null;
  seq: number | null;
  prevHash: Buffer | null;
  hash: Buffer | null;
}

function field(v: string | null): string {
  return v === null ? '-' : `${Buffer.byteLength(v, 'utf8')}:${v}`;
}

/** The payload of an entry (what pgpress_audit_payload returns for it). */
export function entryPayload(e: StoredEntry): Buffer {
  return Buffer.from(
    [e.id, e.at, e.txid, e.actorId, e.dbRole, e.actorRole, e.table, e.operation, e.rowId, e.rowKey, e.changed, e.oldRow, e.newRow]
      .map(field)
      .join(''),
    'utf8',
  );
}

/** sha256(prev || payload): the hash the entry must carry. */
export function entryHash(prev: Buffer, e: StoredEntry): Buffer {
  return createHash('sha256').update(prev).update(entryPayload(e)).digest();
}

/** The link of a chain's first entry: 32 zero bytes. */
export const GENESIS = Buffer.alloc(32);
