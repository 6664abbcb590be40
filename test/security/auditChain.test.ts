// The chain check alone (no database): what each tampering looks like to it, and the removals
// retention records. The database-backed tests are auditTamper, auditPrivileges, auditCompleteness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkChain, type ChainEntry, type Removal } from '../../src/security/auditChain.ts';
import { entryHash, entryPayload, GENESIS, type StoredEntry } from '../../src/security/auditPayload.ts';

const h = (s: string): string => createHash('sha256').update(s).digest('hex');
/** A well-formed chain of n entries (positions from `from`, linked from `prev`). */
function chain(n: number, from = 1, prev = '00'.repeat(32)): ChainEntry[] {
  const out: ChainEntry[] = [];
  for (let i = 0; i < n; i++) {
    const hash = h(`${prev}:${from + i}`);
    out.push({ id: String(100 + from + i), seq: from + i, prevHash: prev, hash, selfConsistent: true });
    prev = hash;
  }
  return out;
}
const head = (entries: ChainEntry[]): { seq: number; hash: string } => ({ seq: entries.at(-1)!.seq, hash: entries.at(-1)!.hash });
const kinds = (f: { kind: string; id?: string }[]): string[][] => f.map((x) => [x.kind, x.id ?? '']);

test('the payload is the length-prefixed text of each field, NULL as "-", and the hash covers the link', () => {
  const e: StoredEntry = {
    id: '7', at: '2026-12-01T10:00:00.000001Z', txid: '900', actorId: null, dbRole: 'pgpress_app', actorRole: 'éditeur', table: 'users',
    operation: 'INSERT', rowId: '3', rowKey: '3', changed: null, oldRow: null, newRow: '{"id": 3}', chain: 0, seq: 1, prevHash: GENESIS, hash: null,
  };
  assert.equal(entryPayload(e).toString('utf8'), '1:727:2026-12-01T10:00:00.000001Z3:900-11:pgpress_app8:éditeur5:users6:INSERT1:31:3--9:{"id": 3}');
  assert.notDeepEqual(entryHash(GENESIS, e), entryHash(Buffer.alloc(32, 1), e));
});

test('a whole chain passes; a tail shorter or longer than the head does not', () => {
  const c = chain(12);
  assert.deepEqual(checkChain(0, c, head(c), []), []);
  assert.deepEqual(kinds(checkChain(0, c.slice(0, 10), head(c), [])), [['deleted', '']]);
  assert.deepEqual(kinds(checkChain(0, c, { seq: 10, hash: c[9]!.hash }, [])), [['inserted', c[10]!.id], ['inserted', c[11]!.id]]);
});

test('removals recorded by retention are accepted where the next entry links to them, and nowhere else', () => {
  const c = chain(12);
  const kept = c.slice(5);
  const retire: Removal = { chain: 0, first: 1, last: 5, lastHash: c[4]!.hash, recordedBy: '1' };
  assert.deepEqual(checkChain(0, kept, head(c), [retire]), []);
  assert.deepEqual(kinds(checkChain(0, kept, head(c), [{ ...retire, lastHash: h('other') }])), [['deleted', kept[0]!.id]]);
  assert.deepEqual(kinds(checkChain(0, kept, head(c), [{ ...retire, chain: 1 }])), [['deleted', kept[0]!.id]]);
  // A whole chain removed.
  assert.deepEqual(checkChain(0, [], head(c), [{ ...retire, last: 12, lastHash: c[11]!.hash }]), []);
  // A gap in the middle that no record covers.
  assert.deepEqual(kinds(checkChain(0, [...c.slice(0, 6), ...c.slice(7)], head(c), [retire])), [['deleted', c[7]!.id]]);
});

test('edited, re-hashed, inserted and reordered entries are told apart', () => {
  const c = chain(12);
  const edited = c.map((e, i) => (i === 6 ? { ...e, selfConsistent: false } : e));
  assert.deepEqual(kinds(checkChain(0, edited, head(c), [])), [['edited', c[6]!.id]]);
  const rehashed = c.map((e, i) => (i === 6 ? { ...e, hash: h('new') } : e));
  assert.deepEqual(kinds(checkChain(0, rehashed, head(c), [])), [['edited', c[6]!.id]]);
  const swapped = c.map((e, i) => (i === 6 ? { ...c[7]!, seq: 7 } : i === 7 ? { ...c[6]!, seq: 8 } : e));
  assert.deepEqual(kinds(checkChain(0, swapped, head(c), [])), [['reordered', c[7]!.id]]);
  const extra: ChainEntry = { id: '999', seq: 7, prevHash: c[5]!.hash, hash: h('forged'), selfConsistent: true };
  const renumbered = [...c.slice(0, 6), extra, ...c.slice(6).map((e) => ({ ...e, seq: e.seq + 1 }))];
  assert.deepEqual(kinds(checkChain(0, renumbered, { seq: 13, hash: c[11]!.hash }, [])), [['inserted', '999']]);
});
