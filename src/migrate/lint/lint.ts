// `pgpress migrate lint`: parses migrations with the real PostgreSQL parser and reports dangerous DDL.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Node } from 'libpg-query';
import { NO_TRANSACTION_DIRECTIVE, readMigrationSet } from '../migrationFiles.ts';
import { lineAt } from '../splitStatements.ts';
import { findAcknowledgements, isAcknowledged } from './ignore.ts';
import { parseScript, SqlSyntaxError, type ParsedStatement } from './parse.ts';
import { checkStatement, RULES, type LintContext, type RuleId } from './rules.ts';

/** One finding: where, which rule, what and the safer way; acknowledged ones are reported but do not fail. */
export interface LintFinding {
  file: string;
  line: number;
  rule: RuleId | 'syntax-error';
  message: string;
  alternative: string;
  acknowledged: boolean;
}

// Inside DO blocks (the house style for guarded DDL) the parser sees one string: these statements are dug out and linted too.
const EMBEDDED_DDL = /\b(ALTER\s+TABLE|CREATE\s+(?:UNIQUE\s+)?INDEX)\b/i;

/** Lints one migration's SQL. `file` is only used to name it in findings. */
export async function lintSql(file: string, sql: string): Promise<LintFinding[]> {
  const acks = findAcknowledgements(sql);
  const ctx: LintContext = { createdTables: new Set(), transactional: !NO_TRANSACTION_DIRECTIVE.test(sql), lockTimeoutSet: false, lockTimeoutReported: false };
  let statements: ParsedStatement[];
  try {
    statements = await parseScript(sql);
  } catch (e) {
    if (!(e instanceof SqlSyntaxError)) throw e;
    return [{ file, line: e.line, rule: 'syntax-error', message: e.message, alternative: 'fix the SQL: PostgreSQL would refuse it', acknowledged: false }];
  }
  const out: LintFinding[] = [];
  for (const stmt of statements) {
    const endLine = lineAt(sql, stmt.end);
    for (const inner of [stmt, ...(await embedded(sql, stmt))]) {
      for (const f of checkStatement(inner.node, ctx)) {
        out.push({
          file, line: inner.line, rule: f.rule, message: f.message, alternative: RULES[f.rule],
          acknowledged: isAcknowledged(acks, f.rule, stmt.start, stmt.end, endLine) || isAcknowledged(acks, f.rule, inner.start, inner.end, lineAt(sql, inner.end)),
        });
      }
    }
  }
  return out;
}

/** Lints files by path (migrations or any SQL file). */
export async function lintFiles(paths: readonly string[]): Promise<LintFinding[]> {
  const out: LintFinding[] = [];
  for (const p of paths) out.push(...(await lintSql(basename(p), await readFile(p, 'utf8'))));
  return out;
}

/** Lints every migration in a folder, in version order. */
export async function lintMigrations(dir: string): Promise<LintFinding[]> {
  const { migrations } = await readMigrationSet(dir);
  const out: LintFinding[] = [];
  for (const m of migrations) out.push(...(await lintSql(m.file, m.sql)));
  return out;
}

/** A finding as one line for a terminal: file:line rule message → alternative. */
export function formatFinding(f: LintFinding): string {
  return `${f.file}:${f.line}  ${f.rule}${f.acknowledged ? ' (acknowledged)' : ''}  ${f.message}\n    safer: ${f.alternative}`;
}

/** The DDL statements inside a DO block's body, parsed on their own, with offsets in the whole file. */
async function embedded(sql: string, stmt: ParsedStatement): Promise<ParsedStatement[]> {
  if (!('DoStmt' in stmt.node)) return [];
  const body = doBody(stmt.node);
  if (body === null) return [];
  const bodyAt = sql.indexOf(body, stmt.start);
  if (bodyAt < 0) return [];
  const out: ParsedStatement[] = [];
  let offset = 0;
  for (const piece of body.split(';')) {
    const m = EMBEDDED_DDL.exec(piece);
    if (m) {
      const text = piece.slice(m.index);
      const at = bodyAt + offset + m.index;
      try {
        const parsed = await parseScript(text, at, sql);
        out.push(...parsed);
      } catch {
        // Not plain SQL (PL/pgSQL around it): the statement stays unlinted rather than guessed at.
      }
    }
    offset += piece.length + 1;
  }
  return out;
}

function doBody(node: Node): string | null {
  if (!('DoStmt' in node)) return null;
  for (const arg of node.DoStmt.args ?? []) {
    if ('DefElem' in arg && arg.DefElem.defname === 'as' && arg.DefElem.arg && 'String' in arg.DefElem.arg) return arg.DefElem.arg.String.sval ?? null;
  }
  return null;
}
