// `pgpress keys rotate`: every users.email sealed under the ring's current key — clear rows from
// before 0090 encrypted (and their clear column emptied), rows under an older key re-sealed —
// in short batches the API keeps serving through, resumable at any point.
import type { Cluster } from '../../db/cluster.ts';
import { PgpressError } from '../../errors/index.ts';
import { emailIndex } from '../../security/blindIndex.ts';
import { open, seal } from '../../security/crypto.ts';
import type { KeyRing } from '../../security/keyRing.ts';
import { toId } from '../ids.ts';
import { rotationBatch, rotationRemaining, rotationWrite } from './queries.ts';

/** How a rotation runs: rows per transaction, and an optional stop (after N batches, or a signal). */
export interface RotateOptions {
  batchRows?: number;
  maxBatches?: number;
  signal?: AbortSignal;
  /** One line per batch (no personal data: ids and counts only). */
  log?: (line: string) => void;
}

/** What a run did and what is left (0 and 0 when every email is under the current key). */
export interface RotateReport {
  keyId: string;
  rewritten: number;
  batches: number;
  stopped: boolean;
  remainingClear: number;
  remainingOtherKey: number;
}

interface Row {
  id: string;
  email: string | null;
  email_ciphertext: Buffer | null;
  email_key_id: string | null;
}

/** Re-seals users' emails under ring.currentId; stopping and running again continues where it was. */
export async function rotateUserEmailKeys(cluster: Cluster, ring: KeyRing, opts: RotateOptions = {}): Promise<RotateReport> {
  const batchRows = opts.batchRows ?? 1000;
  const keyId = ring.currentId;
  let rewritten = 0;
  let batches = 0;
  let stopped = false;
  // Passes from id 0 until one finds nothing: rows a writer held (SKIP LOCKED) are taken next pass.
  // The state lives in the rows themselves (key id, clear column), so a restart needs no cursor file.
  for (let pass = 0; !stopped; pass++) {
    let cursor = '0';
    let passRows = 0;
    for (;;) {
      if ((opts.maxBatches !== undefined && batches >= opts.maxBatches) || opts.signal?.aborted) {
        stopped = true;
        break;
      }
      // One short transaction per batch: locks are held for one batch only.
      const { value } = await cluster.tx(async (q) => {
        const { rows } = await q.query<Row>(rotationBatch, [cursor, keyId, batchRows]);
        if (rows.length === 0) return { n: 0, last: cursor };
        const ids: string[] = [];
        const cts: Buffer[] = [];
        const kids: string[] = [];
        const idx: Buffer[] = [];
        for (const r of rows) {
          const id = toId(r.id);
          const email = r.email ?? open(ring, 'users', 'email', id, { ciphertext: r.email_ciphertext!, keyId: r.email_key_id! });
          const s = seal(ring, 'users', 'email', id, email);
          ids.push(r.id);
          cts.push(s.ciphertext);
          kids.push(s.keyId);
          idx.push(emailIndex(ring, email));
        }
        try {
          await q.query(rotationWrite, [ids, cts, kids, idx]);
        } catch (e) {
          if ((e as PgpressError).pg?.sqlstate !== '23505') throw e;
          // A clear row from before 0090 with the email of a user signed up since: one must go.
          throw new PgpressError('PGP_CONFLICT', `Two users have the same email (one of ids ${ids[0]}-${ids[ids.length - 1]} and a user signed up since 0090); merge or remove one, then run keys rotate again.`, { cause: e });
        }
        return { n: rows.length, last: rows[rows.length - 1]!.id };
      });
      if (value.n === 0) break;
      batches++;
      rewritten += value.n;
      passRows += value.n;
      cursor = value.last;
      opts.log?.(`batch ${batches}: ${value.n} rows up to id ${cursor} sealed under ${keyId}`);
    }
    if (passRows === 0) break;
    if (pass > 1000) break; // a writer holding rows for ever: report them as remaining
  }
  const { rows } = await cluster.query<{ clear: string; other_key: string }>(rotationRemaining, [keyId]);
  return { keyId, rewritten, batches, stopped, remainingClear: Number(rows[0]!.clear), remainingOtherKey: Number(rows[0]!.other_key) };
}
