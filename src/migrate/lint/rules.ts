// The lint rules: the well-known ways a migration locks or rewrites a busy table, each with a safer way.
import type { AlterTableCmd, ColumnDef, Constraint, IndexStmt, Node, RangeVar } from 'libpg-query';

/** The rules, their id and the safer alternative a finding suggests. */
export const RULES = {
  'index-not-concurrent': 'CREATE INDEX CONCURRENTLY in its own migration whose first line is `-- pgpress:no-transaction`',
  'concurrently-in-transaction': 'put `-- pgpress:no-transaction` on the first line: CONCURRENTLY cannot run inside a transaction',
  'add-not-null': 'add the column nullable (or with a constant DEFAULT), backfill in batches, add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT NULL (no table scan since PostgreSQL 12)',
  'volatile-default': 'add the column without a default, backfill it in batches, then SET DEFAULT for new rows (a volatile default or serial/identity rewrites the whole table under ACCESS EXCLUSIVE)',
  'column-type-change': 'add a new column of the new type, backfill it in batches, move readers and writers, then drop the old column (expand/contract)',
  'constraint-not-valid': 'ADD CONSTRAINT … NOT VALID (instant), then ALTER TABLE … VALIDATE CONSTRAINT in a later migration (scans under a lock that lets reads and writes go on)',
  'unique-without-index': 'CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … UNIQUE / PRIMARY KEY USING INDEX',
  'missing-lock-timeout': "set a lock timeout before locking a busy table (SET LOCAL lock_timeout = '5s'); pgpress's runner sets MIGRATE_LOCK_TIMEOUT_MS, psql and other tools do not",
  'rename-column': 'expand/contract: add the new column, write both, backfill, move readers, and drop the old column once no deployed code uses it',
  'drop-column': 'first deploy code that no longer reads or writes the column, then drop it and acknowledge this finding',
} as const;

/** A lint rule's id. */
export type RuleId = keyof typeof RULES;

/** A danger found in one statement, before its line and acknowledgement are known. */
export interface RawFinding {
  rule: RuleId;
  message: string;
}

/** What the rules know about the file so far. */
export interface LintContext {
  /** Tables created earlier in this migration: changing them locks nobody. */
  createdTables: Set<string>;
  transactional: boolean;
  lockTimeoutSet: boolean;
  lockTimeoutReported: boolean;
}

// Functions whose value differs per row: as a column DEFAULT they force a table rewrite.
const VOLATILE = new Set(['random', 'clock_timestamp', 'timeofday', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'nextval', 'txid_current', 'random_normal']);
const SERIAL = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2']);

/** The table name a rule compares (schema dropped: migrations work in one schema). */
export function tableName(rel: RangeVar | undefined): string {
  return (rel?.relname ?? '').toLowerCase();
}

/** Findings for one statement; updates the context (tables created, lock_timeout set). */
export function checkStatement(node: Node, ctx: LintContext): RawFinding[] {
  const out: RawFinding[] = [];
  const existing = (rel: RangeVar | undefined): boolean => !ctx.createdTables.has(tableName(rel));
  let locksExisting = false;

  if ('CreateStmt' in node) ctx.createdTables.add(tableName(node.CreateStmt.relation));
  if ('CreateTableAsStmt' in node) ctx.createdTables.add(tableName(node.CreateTableAsStmt.into?.rel));
  if ('VariableSetStmt' in node && node.VariableSetStmt.name === 'lock_timeout') ctx.lockTimeoutSet = true;

  if ('IndexStmt' in node) {
    const idx: IndexStmt = node.IndexStmt;
    if (idx.concurrent && ctx.transactional) {
      out.push({ rule: 'concurrently-in-transaction', message: `CREATE INDEX CONCURRENTLY ${idx.idxname ?? ''} in a transactional migration fails` });
    }
    if (!idx.concurrent && existing(idx.relation)) {
      locksExisting = true;
      out.push({ rule: 'index-not-concurrent', message: `CREATE INDEX ${idx.idxname ?? ''} on existing table ${tableName(idx.relation)} blocks writes to it for the whole build` });
    }
  }
  if ('AlterTableStmt' in node && existing(node.AlterTableStmt.relation)) {
    const table = tableName(node.AlterTableStmt.relation);
    locksExisting = true;
    for (const c of node.AlterTableStmt.cmds ?? []) {
      if ('AlterTableCmd' in c) out.push(...checkAlter(c.AlterTableCmd, table));
    }
  }
  if ('RenameStmt' in node && node.RenameStmt.renameType === 'OBJECT_COLUMN' && existing(node.RenameStmt.relation)) {
    locksExisting = true;
    out.push({ rule: 'rename-column', message: `renaming column ${tableName(node.RenameStmt.relation)}.${node.RenameStmt.subname} breaks every deployed query that uses the old name` });
  }
  if (locksExisting && !ctx.lockTimeoutSet && !ctx.lockTimeoutReported) {
    ctx.lockTimeoutReported = true;
    out.push({ rule: 'missing-lock-timeout', message: 'this statement locks an existing table and the file sets no lock_timeout before it: queued behind a long query, it would block every query behind it' });
  }
  return out;
}

function checkAlter(cmd: AlterTableCmd, table: string): RawFinding[] {
  const out: RawFinding[] = [];
  switch (cmd.subtype) {
    case 'AT_AddColumn': {
      const col = cmd.def && 'ColumnDef' in cmd.def ? (cmd.def.ColumnDef as ColumnDef) : undefined;
      if (!col) break;
      const cons = (col.constraints ?? []).flatMap((c) => ('Constraint' in c ? [c.Constraint as Constraint] : []));
      const def = cons.find((c) => c.contype === 'CONSTR_DEFAULT');
      if (cons.some((c) => c.contype === 'CONSTR_NOTNULL') && !def) {
        out.push({ rule: 'add-not-null', message: `ADD COLUMN ${col.colname} NOT NULL without a DEFAULT fails on a non-empty ${table}` });
      }
      const volatile = def?.raw_expr ? volatileCall(def.raw_expr) : null;
      const typeName = lastName(col.typeName?.names);
      if (volatile) out.push({ rule: 'volatile-default', message: `ADD COLUMN ${col.colname} DEFAULT ${volatile}() rewrites all of ${table}` });
      else if (SERIAL.has(typeName) || cons.some((c) => c.contype === 'CONSTR_IDENTITY' || c.contype === 'CONSTR_GENERATED')) {
        out.push({ rule: 'volatile-default', message: `ADD COLUMN ${col.colname} ${typeName} (serial, identity or generated) rewrites all of ${table}` });
      }
      for (const c of cons) if (c.contype === 'CONSTR_CHECK' || c.contype === 'CONSTR_FOREIGN') out.push(...checkConstraint(c, table));
      break;
    }
    case 'AT_SetNotNull':
      out.push({ rule: 'add-not-null', message: `SET NOT NULL on ${table}.${cmd.name} scans the whole table under ACCESS EXCLUSIVE` });
      break;
    case 'AT_AlterColumnType':
      out.push({ rule: 'column-type-change', message: `changing the type of ${table}.${cmd.name} rewrites the table (and its indexes) under ACCESS EXCLUSIVE` });
      break;
    case 'AT_AddConstraint':
      if (cmd.def && 'Constraint' in cmd.def) out.push(...checkConstraint(cmd.def.Constraint as Constraint, table));
      break;
    case 'AT_DropColumn':
      out.push({ rule: 'drop-column', message: `dropping ${table}.${cmd.name} breaks every deployed query that still uses it` });
      break;
    default:
      break;
  }
  return out;
}

function checkConstraint(c: Constraint, table: string): RawFinding[] {
  const name = c.conname ?? '(unnamed)';
  if ((c.contype === 'CONSTR_CHECK' || c.contype === 'CONSTR_FOREIGN') && !c.skip_validation) {
    const kind = c.contype === 'CONSTR_CHECK' ? 'CHECK' : 'FOREIGN KEY';
    return [{ rule: 'constraint-not-valid', message: `${kind} ${name} added to ${table} without NOT VALID scans the table under a lock that blocks writes` }];
  }
  if ((c.contype === 'CONSTR_UNIQUE' || c.contype === 'CONSTR_PRIMARY') && !c.indexname) {
    return [{ rule: 'unique-without-index', message: `${c.contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : 'PRIMARY KEY'} ${name} on ${table} builds its index while blocking writes` }];
  }
  return [];
}

function volatileCall(n: unknown): string | null {
  if (n === null || typeof n !== 'object') return null;
  if (Array.isArray(n)) {
    for (const x of n) {
      const hit = volatileCall(x);
      if (hit) return hit;
    }
    return null;
  }
  const rec = n as Record<string, unknown>;
  if ('FuncCall' in rec) {
    const name = lastName((rec.FuncCall as { funcname?: Node[] }).funcname);
    if (VOLATILE.has(name)) return name;
  }
  for (const v of Object.values(rec)) {
    const hit = volatileCall(v);
    if (hit) return hit;
  }
  return null;
}

function lastName(names: Node[] | undefined): string {
  const last = names?.at(-1);
  return last && 'String' in last ? String(last.String.sval ?? '').toLowerCase() : '';
}
