// The real PostgreSQL parser (libpg-query, compiled to WebAssembly): statements with their lines.
import { parse, type Node, type ParseResult } from 'libpg-query';
import { lineAt } from '../splitStatements.ts';

/** One parsed statement, with where it sits in the file. */
export interface ParsedStatement {
  node: Node;
  /** Character range of the statement in the file (leading comments included, as the parser reports it). */
  start: number;
  end: number;
  /** Line where the statement's code starts. */
  line: number;
}

/** A script the parser refused, with the line it stopped at. */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** Parses a script; offsets are converted from the parser's UTF-8 byte positions to characters. */
export async function parseScript(sql: string, baseOffset = 0, fullText = sql): Promise<ParsedStatement[]> {
  let result: ParseResult;
  try {
    result = (await parse(sql)) as ParseResult;
  } catch (e) {
    const pos = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0;
    throw new SqlSyntaxError((e as Error).message, lineAt(fullText, baseOffset + charOffset(sql, pos)));
  }
  return (result.stmts ?? []).flatMap((raw) => {
    if (!raw.stmt) return [];
    const start = charOffset(sql, raw.stmt_location ?? 0);
    const end = raw.stmt_len ? charOffset(sql, (raw.stmt_location ?? 0) + raw.stmt_len) : sql.length;
    const lead = sql.slice(start, end).search(/\S/);
    const codeStart = skipComments(sql, start + Math.max(lead, 0), end);
    return [{ node: raw.stmt, start: baseOffset + start, end: baseOffset + end, line: lineAt(fullText, baseOffset + codeStart) }];
  });
}

/** Character offset of a UTF-8 byte offset in s. */
export function charOffset(s: string, byteOffset: number): number {
  return Buffer.from(s, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

function skipComments(s: string, i: number, end: number): number {
  let j = i;
  for (;;) {
    while (j < end && /\s/.test(s[j]!)) j++;
    if (s.startsWith('--', j)) {
      const eol = s.indexOf('\n', j);
      j = eol === -1 || eol > end ? end : eol + 1;
    } else if (s.startsWith('/*', j)) {
      const close = s.indexOf('*/', j);
      j = close === -1 || close > end ? end : close + 2;
    } else {
      return j;
    }
  }
}
