// Splits a SQL script into statements, so a failure can name its statement and line.
// The same lexer feeds the checksum normaliser, so both agree on what is code, comment or literal.

/** One statement of a script (with its leading comments) and the line its code starts on (1-based). */
export interface Statement {
  text: string;
  line: number;
}

/** A lexical piece of a script: code, a comment, or a quoted / dollar-quoted literal (kept intact). */
export interface Piece {
  kind: 'code' | 'comment' | 'literal';
  start: number;
  end: number;
}

/** Cuts a script into code, comment and literal pieces (PostgreSQL lexical rules, nested block comments). */
export function scanPieces(script: string): Piece[] {
  const out: Piece[] = [];
  const n = script.length;
  let codeStart = 0;
  let i = 0;
  const emit = (kind: Piece['kind'], start: number, end: number): void => {
    if (codeStart < start) out.push({ kind: 'code', start: codeStart, end: start });
    out.push({ kind, start, end });
    codeStart = end;
  };
  while (i < n) {
    const c = script[i]!;
    const next = script[i + 1];
    if (c === '-' && next === '-') {
      const eol = script.indexOf('\n', i);
      const end = eol === -1 ? n : eol;
      emit('comment', i, end);
      i = end;
    } else if (c === '/' && next === '*') {
      const end = skipBlockComment(script, i);
      emit('comment', i, end);
      i = end;
    } else if (c === "'" || c === '"') {
      const end = skipQuoted(script, i, c);
      emit('literal', i, end);
      i = end;
    } else if (c === '$' && !/[A-Za-z0-9_$]/.test(script[i - 1] ?? ' ')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i, i + 64));
      if (tag) {
        const close = script.indexOf(tag[0], i + tag[0].length);
        const end = close === -1 ? n : close + tag[0].length;
        emit('literal', i, end);
        i = end;
      } else {
        i++;
      }
    } else {
      i++;
    }
  }
  if (codeStart < n) out.push({ kind: 'code', start: codeStart, end: n });
  return out;
}

/**
 * Splits on top-level semicolons, skipping those inside quotes, comments and
 * dollar-quoted bodies (CREATE FUNCTION … $$ … $$). Empty statements are dropped.
 */
export function splitStatements(script: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  const push = (end: number): void => {
    const raw = script.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text.length > 0 && !isOnlyComments(text)) {
      out.push({ text, line: lineAt(script, start + lead + firstCodeOffset(text)) });
    }
  };
  for (const p of scanPieces(script)) {
    if (p.kind !== 'code') continue;
    for (let i = p.start; i < p.end; i++) {
      if (script[i] === ';') {
        push(i);
        start = i + 1;
      }
    }
  }
  push(script.length);
  return out;
}

function skipQuoted(s: string, i: number, q: string): number {
  let j = i + 1;
  while (j < s.length) {
    if (s[j] === q) {
      if (s[j + 1] === q) j += 2; // doubled quote is an escaped quote
      else return j + 1;
    } else if (s[j] === '\\' && q === "'" && (s[i - 1] === 'E' || s[i - 1] === 'e')) {
      j += 2; // backslash escape inside E'...'
    } else {
      j++;
    }
  }
  return s.length;
}

function skipBlockComment(s: string, i: number): number {
  let depth = 0; // PostgreSQL block comments nest
  let j = i;
  while (j < s.length) {
    if (s[j] === '/' && s[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (s[j] === '*' && s[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else {
      j++;
    }
  }
  return s.length;
}

/** Offset of the first character that is neither comment nor whitespace: a statement's line is where its code starts. */
function firstCodeOffset(text: string): number {
  for (const p of scanPieces(text)) {
    if (p.kind === 'comment') continue;
    const chunk = text.slice(p.start, p.end);
    const lead = chunk.length - chunk.trimStart().length;
    if (lead < chunk.length) return p.start + lead;
  }
  return 0;
}

function isOnlyComments(text: string): boolean {
  return scanPieces(text).every((p) => p.kind === 'comment' || (p.kind === 'code' && text.slice(p.start, p.end).trim() === ''));
}

/** 1-based line number of a character offset. */
export function lineAt(s: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (s.charCodeAt(k) === 10) line++;
  return line;
}
