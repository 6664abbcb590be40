// Checksums that ignore formatting: comments and whitespace do not count, literals do.
import { createHash } from 'node:crypto';
import { scanPieces } from './splitStatements.ts';

// Characters that need a space between them to stay apart (quotes too, so messages stay readable).
const WORD = /[A-Za-z0-9_$"']/;

/**
 * The script with comments removed and whitespace reduced to what separates two words
 * (so `a  b` → `a b`, `( x )` → `(x)`); quoted and dollar-quoted literals stay byte for byte.
 */
export function normalizeSql(script: string): string {
  let out = '';
  let pendingSpace = false;
  const put = (text: string): void => {
    if (text.length === 0) return;
    if (pendingSpace && out.length > 0 && WORD.test(out[out.length - 1]!) && WORD.test(text[0]!)) out += ' ';
    pendingSpace = false;
    out += text;
  };
  for (const p of scanPieces(script)) {
    const text = script.slice(p.start, p.end);
    if (p.kind === 'comment') {
      pendingSpace = true;
    } else if (p.kind === 'literal') {
      put(text);
    } else {
      for (const part of text.split(/(\s+)/)) {
        if (part.length === 0) continue;
        if (/^\s+$/.test(part)) pendingSpace = true;
        else put(part);
      }
    }
  }
  return out;
}

/** sha256 (hex) of the normalised script(s) plus the flags that change how they run (e.g. no-transaction). */
export function checksumOf(sql: string | readonly string[], flags: readonly string[] = []): string {
  const h = createHash('sha256');
  h.update(`pgpress-checksum-v2\n${[...flags].sort().join(',')}\n`, 'utf8');
  for (const part of typeof sql === 'string' ? [sql] : sql) {
    const n = normalizeSql(part);
    h.update(`${Buffer.byteLength(n, 'utf8')}:`, 'utf8'); // length-prefixed: parts cannot bleed into each other
    h.update(n, 'utf8');
  }
  return h.digest('hex');
}
