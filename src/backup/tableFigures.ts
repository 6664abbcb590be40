// Row counts and content hashes of every table at one exact point of the WAL, so a restored backup
// can be compared with its source: a named restore point written while writers are held off, and
// the figures read later through the snapshot exported at that moment.
import pg from 'pg';
import { quoteIdent } from '../db/sql.ts';
import type { TableFigure } from './manifest.ts';
import { formatStatement } from '../db/utilityStatement.ts';

const TABLES = `SELECT n.nspname AS schema, c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence = 'p'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
 ORDER BY 1, 2`;

/** LOCK TABLE … IN SHARE MODE statements for the tables ($1 schemas, $2 names), 200 a statement,
 *  each name quoted by format()'s %I. */
const LOCK_STATEMENTS = `SELECT 'LOCK TABLE ' || string_agg(format('%I.%I', s, n), ', ' ORDER BY i) || ' IN SHARE MODE' AS stmt
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(s, n, i)
 GROUP BY (i - 1) / 200 ORDER BY (i - 1) / 200`;

/** The permanent user tables of the connected database, schema-qualified and quoted. */
async function userTables(client: pg.ClientBase): Promise<{ schema: string; name: string; label: string; quoted: string }[]> {
  const { rows } = await client.query<{ schema: string; name: string }>(TABLES);
  return rows.map((r) => ({ schema: r.schema, name: r.name, label: `${r.schema}.${r.name}`, quoted: `${quoteIdent(r.schema)}.${quoteIdent(r.name)}` }));
}

/** Row count and an order-independent hash (sum of 64-bit prefixes of each row's md5) of one table. */
async function figureOf(client: pg.ClientBase, t: { label: string; quoted: string }): Promise<TableFigure> {
  const { rows: [r] } = await client.query<{ rows: string; hash: string }>(
    `SELECT count(*)::text AS rows, coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0)::text AS hash FROM ${t.quoted} AS t`);
  return { table: t.label, rows: Number(r!.rows), hash: r!.hash };
}

/** Figures of every user table as the connected server sees them now (verify uses this on the restored copy). */
export async function currentFigures(client: pg.ClientBase): Promise<TableFigure[]> {
  const out: TableFigure[] = [];
  for (const t of await userTables(client)) out.push(await figureOf(client, t));
  return out;
}

/** Where the figures were taken: the restore point's name and LSN. */
export interface FiguresAtPoint {
  restorePoint: string;
  lsn: string;
  figures: TableFigure[];
}

/** Writes restore point `name` while every user table is share-locked (no write in flight), exports
 *  that moment's snapshot and reads the figures through it after the locks are gone. */
export async function figuresAtRestorePoint(url: string, name: string, lockTimeoutMs = 5_000): Promise<FiguresAtPoint> {
  const locker = new pg.Client({ connectionString: url });
  const reader = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await reader.connect();
    const tables = await userTables(locker);
    // lock_timeout: a long writer makes this attempt fail rather than stall every other writer. A
    // SET, built before BEGIN: a SELECT inside the transaction would take its snapshot before the
    // locks, and the exported snapshot would miss writes the restore point has.
    const setLockTimeout = await formatStatement(locker, 'SET LOCAL lock_timeout = %L', [`${Math.max(1, Math.floor(lockTimeoutMs))}ms`]);
    // SHARE waits for every writer on these tables to commit (their commit records are then in the
    // WAL and visible) and keeps new ones out until COMMIT: the snapshot and the restore point
    // below see exactly the same rows. LOCK itself takes no snapshot; its statements are built by
    // the server before BEGIN too (LOCK_STATEMENTS: the names as bind parameters).
    const { rows: lockRows } = await locker.query<{ stmt: string }>(LOCK_STATEMENTS, [tables.map((t) => t.schema), tables.map((t) => t.name)]);
    const locks = lockRows.map((r) => r.stmt);
    await locker.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await locker.query(setLockTimeout);
    for (const lock of locks) await locker.query(lock);
    const { rows: [p] } = await locker.query<{ snapshot: string; lsn: string }>(
      'SELECT pg_export_snapshot() AS snapshot, pg_create_restore_point($1)::text AS lsn', [name]);
    // Built before BEGIN: SET TRANSACTION SNAPSHOT must be the transaction's first statement.
    const useSnapshot = await formatStatement(reader, 'SET TRANSACTION SNAPSHOT %L', [p!.snapshot]);
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await reader.query(useSnapshot);
    await locker.query('COMMIT');
    const figures: TableFigure[] = [];
    for (const t of tables) figures.push(await figureOf(reader, t));
    await reader.query('COMMIT');
    return { restorePoint: name, lsn: p!.lsn, figures };
  } catch (e) {
    await locker.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await reader.end().catch(() => undefined);
    await locker.end().catch(() => undefined);
  }
}
