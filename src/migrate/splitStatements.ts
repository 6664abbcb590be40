// Splits a SQL script into statements, so a failure can name its statement and line.

/** One statement of a script and the line it starts on (1-based). */
export interface Statement {
  text: string;
  line: number;
}

/**
 * Splits on top-level semicolons, skipping those inside quotes, comments and
 * dollar-quoted bodies (CREATE FUNCTION … $$ … $$). Empty statements are dropped.
 */
export function splitStatements(script: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let i = 0;
  const n = script.length;
  const push = (end: number): void => {
    const raw = script.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text.length > 0 && !isOnlyComments(text)) {
      out.push({ text, line: lineAt(script, start + lead) });
    }
  };
  while (i < n) {
    const c = script[i]!;
    const next = script[i + 1];
    if (c === '-' && next === '-') {
      const eol = script.indexOf('\n', i);
      i = eol === -1 ? n : eol + 1;
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(script, i);
    } else if (c === "'" || c === '"') {
      i = skipQuoted(script, i, c);
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i, i + 64));
      if (tag) {
        const close = script.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
      } else {
        i++;
      }
    } else if (c === ';') {
      push(i);
      start = i + 1;
      i++;
    } else {
      i++;
    }
  }
  push(n);
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

function isOnlyComments(text: string): boolean {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').trim().length === 0;
}

function lineAt(s: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (s.charCodeAt(k) === 10) line++;
  return line;
}
