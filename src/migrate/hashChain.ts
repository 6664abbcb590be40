// The tracking table's hash chain: each row's hash covers its fields and the previous row's hash,
// so an edited, deleted or reordered row shows up (as Flyway's checksums cannot show a deleted row).
import { createHash } from 'node:crypto';

/** The fields of a tracking row that its hash covers (timestamps as fixed-form UTC text). */
export interface ChainFields {
  version: number;
  name: string;
  checksum: string;
  appliedAt: string;
  durationMs: number;
  appliedBy: string;
  repairedAt: string | null;
  repairedBy: string | null;
  repairedFrom: string | null;
}

/** sha256 (hex) of the previous hash and this row's fields. */
export function rowHash(previousHash: string | null, f: ChainFields): string {
  const canonical = JSON.stringify([
    previousHash ?? '', f.version, f.name, f.checksum, f.appliedAt, f.durationMs, f.appliedBy, f.repairedAt, f.repairedBy, f.repairedFrom,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** One break in the chain, named by the row where it shows. */
export interface ChainProblem {
  version: number;
  problem: string;
}

/** Walks the rows in version order and reports every row whose links or hash do not match. */
export function verifyChain(rows: readonly (ChainFields & { previousHash: string | null; rowHash: string | null })[]): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let previous: string | null = null;
  for (const r of rows) {
    if (r.rowHash === null) {
      problems.push({ version: r.version, problem: 'has no row hash (recorded by a runner without the hash chain, or inserted by hand)' });
    } else if (r.previousHash !== previous) {
      problems.push({ version: r.version, problem: 'does not link to the row before it (a row was deleted, inserted or reordered)' });
    } else if (rowHash(r.previousHash, r) !== r.rowHash) {
      problems.push({ version: r.version, problem: 'was edited after it was recorded (its hash no longer matches its fields)' });
    }
    previous = r.rowHash;
  }
  return problems;
}
