// The migration tracking table: one row per applied migration, hash-chained (see hashChain.ts).
import type pg from 'pg';
import { rowHash, type ChainFields } from './hashChain.ts';
import { quoteIdent } from '../db/sql.ts';

/** Qualified name of the tracking table, quoted (also accepted where a regclass is expected). */
export const TRACKING_TABLE = `${quoteIdent('public')}.${quoteIdent('pgpress_migrations')}`;

/** Creates the tracking table if it is missing (run under the migration lock). */
export const TRACKING_DDL = `
CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (
  version     integer PRIMARY KEY,
  name        text        NOT NULL,
  checksum    text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at  timestamptz NOT NULL DEFAULT now(),
  duration_ms integer     NOT NULL CHECK (duration_ms >= 0),
  applied_by  text        NOT NULL DEFAULT current_user
)`;

/** Columns added since v1, each added in place and idempotently (the table evolves, never recreated). */
const EVOLUTION: readonly [column: string, ddl: string][] = [
  ['script', 'text'], // the file as applied, so drift can say which statement differs
  ['repaired_at', 'timestamptz'],
  ['repaired_by', 'text'],
  ['repaired_from', 'text'], // the checksum before `migrate repair`
  ['previous_hash', 'text'],
  ['row_hash', 'text'],
];

/** Timestamps travel as text in one fixed UTC form, so the hash of a row reads back identically. */
export const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** A tracking row as the runner reads it. */
export interface TrackingRow extends ChainFields {
  script: string | null;
  previousHash: string | null;
  rowHash: string | null;
}

/**
 * Creates or evolves the tracking table; ALTERs only when a column is missing (no needless lock).
 * Returns true when it had no hash chain yet (new, or written by runner v1): only then may rows be adopted.
 */
export async function ensureTracking(client: pg.Client): Promise<boolean> {
  await client.query(TRACKING_DDL);
  const { rows } = await client.query<{ attname: string }>(
    'SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped',
    [TRACKING_TABLE],
  );
  const have = new Set(rows.map((r) => r.attname));
  for (const [column, type] of EVOLUTION) {
    // EVOLUTION is a constant list of (column, type); the column still goes through quoteIdent.
    if (!have.has(column)) await client.query(`ALTER TABLE ${TRACKING_TABLE} ADD COLUMN IF NOT EXISTS ${quoteIdent(column)} ${type}`);
  }
  return !have.has('row_hash');
}

/** True when the tracking table exists (read-only callers must not create it). */
export async function trackingExists(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [TRACKING_TABLE]);
  return rows[0]?.t != null;
}

/** Every row in version order (the order of the hash chain); tolerates a v1 table without the new columns. */
export async function readTracking(client: pg.Client): Promise<TrackingRow[]> {
  // to_jsonb(t): columns a v1 table lacks simply read as null, so status works before the table evolves.
  const { rows } = await client.query<Record<string, unknown>>(
    `SELECT to_jsonb(t) AS j,
            to_char(t.applied_at AT TIME ZONE 'UTC', ${UTC_TEXT}) AS applied_utc,
            to_char((to_jsonb(t)->>'repaired_at')::timestamptz AT TIME ZONE 'UTC', ${UTC_TEXT}) AS repaired_utc
       FROM ${TRACKING_TABLE} t ORDER BY t.version`,
  );
  return rows.map((r) => {
    const j = r.j as Record<string, unknown>;
    const str = (k: string): string | null => (typeof j[k] === 'string' ? (j[k] as string) : null);
    return {
      version: Number(j.version),
      name: String(j.name),
      checksum: String(j.checksum),
      appliedAt: String(r.applied_utc),
      durationMs: Number(j.duration_ms),
      appliedBy: String(j.applied_by),
      repairedAt: (r.repaired_utc as string | null) ?? null,
      repairedBy: str('repaired_by'),
      repairedFrom: str('repaired_from'),
      script: str('script'),
      previousHash: str('previous_hash'),
      rowHash: str('row_hash'),
    };
  });
}

/** Records an applied migration as the next link of the chain (inside the migration's transaction); returns its hash. */
export async function insertTracking(
  client: pg.Client,
  m: { version: number; name: string; checksum: string; script: string; durationMs: number },
  previousHash: string | null,
): Promise<string> {
  const now = await client.query<{ at: string; by: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', ${UTC_TEXT}) AS at, current_user::text AS by`);
  const { at, by } = now.rows[0]!;
  const fields: ChainFields = {
    version: m.version, name: m.name, checksum: m.checksum, appliedAt: at, durationMs: m.durationMs, appliedBy: by,
    repairedAt: null, repairedBy: null, repairedFrom: null,
  };
  const hash = rowHash(previousHash, fields);
  await client.query(
    `INSERT INTO ${TRACKING_TABLE} (version, name, checksum, applied_at, duration_ms, applied_by, script, previous_hash, row_hash)
     VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7, $8, $9)`,
    [m.version, m.name, m.checksum, at, m.durationMs, by, m.script, previousHash, hash],
  );
  return hash;
}
