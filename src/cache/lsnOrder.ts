// LSN tokens in the forms the cache needs: compared, and as fixed-width text Redis can order.
import { formatLsn, isLsn, parseLsn } from '../db/lsn.ts';

/** True when the entry read at `entryLsn` is at least as new as `token` (no token: any entry). */
export function covers(entryLsn: string, token: string | undefined): boolean {
  if (token === undefined || token === '') return true;
  if (entryLsn === '') return false;
  return parseLsn(entryLsn) >= parseLsn(token);
}

/** "16/B374D848" as 16 hex digits, so string order is WAL order (Lua compares strings). */
export function sortableLsn(lsn: string | undefined): string {
  return lsn !== undefined && isLsn(lsn) ? parseLsn(lsn).toString(16).padStart(16, '0') : '';
}

/** sortableLsn's text back as an LSN (undefined for '' or anything else). */
export function fromSortable(s: string): string | undefined {
  return /^[0-9a-f]{16}$/.test(s) ? formatLsn(BigInt(`0x${s}`)) : undefined;
}
