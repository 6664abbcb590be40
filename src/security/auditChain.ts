// Checking one audit hash chain, pure: entries in position order, the chain's head, and the
// removals retention recorded. Every finding names the entry (id) and its place (chain, position).
//
// How a tampering shows:
// - edited: the entry's own hash no longer matches its content (or the entry was re-hashed, and
//   the next entry's link names a hash that exists nowhere);
// - deleted: positions missing that no retention entry accounts for, or a missing tail (the head
//   is further on than the last entry);
// - inserted: an entry outside any chain, a second entry at one position, entries beyond the head,
//   or entries sitting between two that link to each other;
// - reordered: an entry whose own hash holds but whose link names an entry placed after it.

/** What the chain check needs of an entry. */
export interface ChainEntry {
  id: string;
  seq: number;
  /** Hex of the stored prev_hash and hash. */
  prevHash: string;
  hash: string;
  /** The stored hash equals sha256(prev_hash || payload). */
  selfConsistent: boolean;
}

/** Positions retention removed from a chain, and the hash of the last one (a RETIRE entry). */
export interface Removal {
  chain: number;
  first: number;
  last: number;
  lastHash: string;
  /** The RETIRE entry that recorded it. */
  recordedBy: string;
}

/** One thing verification found wrong. */
export interface AuditFinding {
  kind: 'edited' | 'deleted' | 'inserted' | 'reordered' | 'trigger' | 'unaudited';
  /** The entry (audit_log.id) or, for unaudited, the table row. */
  id?: string;
  chain?: number;
  seq?: number;
  message: string;
}

const ZERO = '00'.repeat(32);

function covered(removals: Removal[], from: number, to: number): boolean {
  // Every position from..to inside some recorded range.
  for (let p = from; p <= to; ) {
    const r = removals.find((x) => x.first <= p && x.last >= p);
    if (!r) return false;
    p = r.last + 1;
  }
  return true;
}

/** Checks one chain. entries: sorted by seq, then id. */
export function checkChain(chain: number, entries: readonly ChainEntry[], head: { seq: number; hash: string }, removals: readonly Removal[]): AuditFinding[] {
  const out: AuditFinding[] = [];
  const mine = removals.filter((r) => r.chain === chain);
  const byHash = new Map<string, number>();
  entries.forEach((e, i) => { if (!byHash.has(e.hash)) byHash.set(e.hash, i); });
  const flagged = new Set<number>();
  const at = (e: ChainEntry): string => `id ${e.id} (chain ${chain}, position ${e.seq})`;
  let expected = 1;
  let prev = ZERO;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.seq < expected) {
      out.push({ kind: 'inserted', id: e.id, chain, seq: e.seq, message: `${at(e)}: a second entry at a position already taken (inserted)` });
      flagged.add(i);
      continue;
    }
    if (!e.selfConsistent) {
      out.push({ kind: 'edited', id: e.id, chain, seq: e.seq, message: `${at(e)}: its content does not match its hash (edited)` });
      flagged.add(i);
    }
    if (e.seq > expected) {
      const from = expected;
      const to = e.seq - 1;
      const end = mine.find((r) => r.last === to);
      if (from === 1 && i === 0 ? end !== undefined : covered(mine, from, to)) {
        // Removed by retention: the entry after the removal links to the last entry removed.
        if (end && end.lastHash !== e.prevHash) {
          out.push({ kind: 'deleted', id: e.id, chain, seq: e.seq, message: `${at(e)}: does not link to the last entry retention removed (recorded by id ${end.recordedBy}): entries before it were deleted or replaced` });
        }
      } else {
        const span = from === to ? `position ${from}` : `positions ${from}–${to}`;
        out.push({ kind: 'deleted', id: e.id, chain, seq: from, message: `chain ${chain} ${span} missing before ${at(e)} (deleted; no retention entry accounts for it)` });
      }
    } else if (e.prevHash !== prev && !flagged.has(i)) {
      const p = byHash.get(e.prevHash);
      if (p === undefined) {
        const before = entries[i - 1];
        if (before && before.seq === e.seq - 1) {
          out.push({ kind: 'edited', id: before.id, chain, seq: before.seq, message: `${at(before)}: rewritten and re-hashed (the next entry, id ${e.id}, links to a hash that no longer exists)` });
        } else {
          out.push({ kind: 'deleted', id: e.id, chain, seq: e.seq, message: `${at(e)}: links to an entry that no longer exists (deleted)` });
        }
      } else if (p > i) {
        const q = entries[p]!;
        out.push({ kind: 'reordered', id: e.id, chain, seq: e.seq, message: `${at(e)}: was chained after id ${q.id}, which now sits at position ${q.seq} (reordered)` });
        flagged.add(i);
        flagged.add(p);
      } else {
        for (let j = p + 1; j < i; j++) {
          if (flagged.has(j)) continue;
          const x = entries[j]!;
          out.push({ kind: 'inserted', id: x.id, chain, seq: x.seq, message: `${at(x)}: sits between id ${entries[p]!.id} and id ${e.id}, which link to each other (inserted)` });
          flagged.add(j);
        }
      }
    }
    prev = e.hash;
    expected = e.seq + 1;
  }
  const last = entries.at(-1);
  const lastSeq = last?.seq ?? 0;
  if (head.seq > lastSeq) {
    const end = mine.find((r) => r.last === head.seq);
    if (!(last === undefined && end !== undefined) && !covered(mine, lastSeq + 1, head.seq)) {
      const span = lastSeq + 1 === head.seq ? `position ${head.seq}` : `positions ${lastSeq + 1}–${head.seq}`;
      out.push({ kind: 'deleted', chain, seq: lastSeq + 1, message: `chain ${chain} ${span} missing at its end (the head is at ${head.seq}; deleted)` });
    }
  } else if (head.seq < lastSeq) {
    for (const x of entries.filter((y) => y.seq > head.seq)) {
      out.push({ kind: 'inserted', id: x.id, chain, seq: x.seq, message: `${at(x)}: beyond the chain's head (position ${head.seq}; inserted)` });
    }
  } else if (last && head.hash !== last.hash) {
    out.push({ kind: 'edited', id: last.id, chain, seq: last.seq, message: `${at(last)}: its hash differs from the chain head's (the entry or the head was rewritten)` });
  }
  return out;
}
