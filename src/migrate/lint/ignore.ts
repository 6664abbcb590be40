// Acknowledgements: `-- pgpress-lint: ignore <rule>[, <rule>…] [reason]` accepts a finding for one statement.
import { scanPieces, lineAt } from '../splitStatements.ts';

/** An acknowledgement comment and what it covers. */
export interface Acknowledgement {
  rules: string[];
  offset: number;
  line: number;
}

const IGNORE = /^--\s*pgpress-lint:\s*ignore\s+([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)/;

/** Every acknowledgement comment in a script. */
export function findAcknowledgements(sql: string): Acknowledgement[] {
  const out: Acknowledgement[] = [];
  for (const p of scanPieces(sql)) {
    if (p.kind !== 'comment') continue;
    const m = IGNORE.exec(sql.slice(p.start, p.end));
    if (m) out.push({ rules: m[1]!.split(/\s*,\s*/), offset: p.start, line: lineAt(sql, p.start) });
  }
  return out;
}

/**
 * True when `rule` is acknowledged for the statement spanning [start, end): by a comment inside that span
 * (the comments just above the statement belong to it) or on the line where the statement ends.
 */
export function isAcknowledged(acks: readonly Acknowledgement[], rule: string, start: number, end: number, endLine: number): boolean {
  return acks.some((a) => a.rules.includes(rule) && ((a.offset >= start && a.offset < end) || a.line === endLine));
}
