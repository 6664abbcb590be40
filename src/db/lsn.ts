// WAL positions (LSNs) as read-your-writes tokens: parse, compare, format.

const LSN_RE = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** True when s looks like a PostgreSQL pg_lsn text ("16/B374D848"). */
export function isLsn(s: unknown): s is string {
  return typeof s === 'string' && LSN_RE.test(s);
}

/** Parses "X/Y" into one 64-bit number; throws TypeError on anything else. */
export function parseLsn(s: string): bigint {
  const m = LSN_RE.exec(s);
  if (!m) throw new TypeError(`Not an LSN: ${JSON.stringify(s)}`);
  return (BigInt(`0x${m[1]!}`) << 32n) | BigInt(`0x${m[2]!}`);
}

/** Formats a 64-bit position the way PostgreSQL prints pg_lsn. */
export function formatLsn(n: bigint): string {
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The later of two optional tokens (undefined when both are absent). */
export function maxLsn(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || a === '') return b === '' ? undefined : b;
  if (b === undefined || b === '') return a;
  return parseLsn(a) >= parseLsn(b) ? a : b;
}
