// Patroni's member list against the read candidates: who joins, who leaves (pure, no database).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffMembers } from '../../src/db/topologyState.ts';
import { newReplicaStatus, applyProbe } from '../../src/db/replicaSet.ts';

const n = (port: number): { host: string; port: number } => ({ host: '127.0.0.1', port });

test('a member listed now and not known is added; one known and not listed is removed; an empty list changes nothing', () => {
  assert.deepEqual(diffMembers([n(1), n(2), n(3)], [n(1), n(2), n(3)]), { added: [], removed: [] });
  assert.deepEqual(diffMembers([n(1), n(2)], [n(2), n(1), n(4)]), { added: [n(4)], removed: [] });
  assert.deepEqual(diffMembers([n(1), n(2), n(3)], [n(1), n(3)]), { added: [], removed: [n(2)] });
  assert.deepEqual(diffMembers([n(1), n(2)], [n(3), n(3), n(1)]), { added: [n(3)], removed: [n(2)] }, 'a member listed twice is added once');
  assert.deepEqual(diffMembers([n(1)], []), { added: [], removed: [] }, 'Patroni listing nobody is no news');
});

test('a replica that joins later enters rotation only after staying healthy for the rejoin period; one known at start at once', () => {
  const opts = { maxLagMs: 1_000, rejoinAfterMs: 2_000 };
  const atStart = applyProbe(newReplicaStatus('node1'), { ok: true, replayLsn: 1n, lagMs: 0 }, opts, 0);
  assert.equal(atStart.inRotation, true);
  const late = newReplicaStatus('node4', true);
  applyProbe(late, { ok: true, replayLsn: 1n, lagMs: 0 }, opts, 10_000);
  assert.deepEqual([late.inRotation, late.state], [false, 'recovering']);
  applyProbe(late, { ok: true, replayLsn: 2n, lagMs: 0 }, opts, 11_999);
  assert.equal(late.inRotation, false);
  applyProbe(late, { ok: true, replayLsn: 3n, lagMs: 0 }, opts, 12_000);
  assert.deepEqual([late.inRotation, late.state], [true, 'healthy']);
});
