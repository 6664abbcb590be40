// Streams rows into a table with COPY … FROM STDIN (text format): the fast path for bulk loads.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent } from '../../db/sql.ts';

/** A value COPY's text format can carry. */
export type CopyValue = string | number | boolean | null | Date | Buffer | readonly string[] | Record<string, unknown>;

function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function arrayLiteral(xs: readonly string[]): string {
  return `{${xs.map((x) => `"${x.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** One value in COPY text format. */
export function copyField(v: CopyValue): string {
  if (v === null) return '\\N';
  if (v instanceof Date) return v.toISOString();
  // bytea in hex form; the backslash is doubled because COPY's text format unescapes it.
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  if (Array.isArray(v)) return escapeText(arrayLiteral(v as readonly string[]));
  if (typeof v === 'object') return escapeText(JSON.stringify(v));
  return escapeText(String(v));
}

/** Copies `count` rows made by `row(i)` into table(columns), reporting progress every chunk. */
export async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  count: number,
  row: (i: number) => readonly CopyValue[],
  onProgress?: (done: number) => void,
): Promise<void> {
  const text = `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  const stream = client.query(copyFrom(text));
  const CHUNK = 2_000;
  async function* lines(): AsyncGenerator<string> {
    for (let start = 0; start < count; start += CHUNK) {
      let buf = '';
      const end = Math.min(count, start + CHUNK);
      for (let i = start; i < end; i++) buf += `${row(i).map(copyField).join('\t')}\n`;
      yield buf;
      onProgress?.(end);
    }
  }
  await pipeline(Readable.from(lines()), stream);
}
