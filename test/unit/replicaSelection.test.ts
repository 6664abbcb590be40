// Replica rotation with hysteresis, and selection by token, breaker and load (pure: no database).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProbe, markDown, newReplicaStatus } from '../../src/db/replicaSet.ts';
import { selectReplica } from '../../src/db/replicaSelector.ts';

const opts = { maxLagMs: 1_000, rejoinAfterMs: 5_000 };

test('a replica joins on its first healthy probe, leaves at once on failure or lag, and rejoins only after staying healthy', () => {
  const r = newReplicaStatus('r1');
  applyProbe(r, { ok: true, replayLsn: 10n, lagMs: 0 }, opts, 0);
  assert.deepEqual([r.state, r.inRotation], ['healthy', true]);
  applyProbe(r, { ok: true, replayLsn: 10n, lagMs: 1_500 }, opts, 100);
  assert.deepEqual([r.state, r.inRotation], ['lagging', false]);
  applyProbe(r, { ok: true, replayLsn: 20n, lagMs: 0 }, opts, 200);
  assert.deepEqual([r.state, r.inRotation], ['recovering', false]);
  applyProbe(r, { ok: false, error: 'timeout' }, opts, 3_000); // a relapse restarts the clock
  assert.deepEqual([r.state, r.inRotation], ['down', false]);
  applyProbe(r, { ok: true, replayLsn: 20n, lagMs: 0 }, opts, 4_000);
  applyProbe(r, { ok: true, replayLsn: 20n, lagMs: 0 }, opts, 8_999);
  assert.equal(r.inRotation, false);
  applyProbe(r, { ok: true, replayLsn: 20n, lagMs: 0 }, opts, 9_000);
  assert.deepEqual([r.state, r.inRotation], ['healthy', true]);
  markDown(r, 'read failed');
  assert.deepEqual([r.state, r.inRotation, r.lastError], ['down', false, 'read failed']);
});

test('selection: caught-up replicas first, closed breakers before open ones, then the least loaded', () => {
  const mk = (name: string, replay: bigint, inFlight: number) => {
    const s = newReplicaStatus(name);
    applyProbe(s, { ok: true, replayLsn: replay, lagMs: 0 }, opts, 0);
    s.inFlight = inFlight;
    return s;
  };
  const a = mk('a', 100n, 3);
  const b = mk('b', 50n, 0);
  assert.equal(selectReplica([{ status: a, breaker: 'closed' }, { status: b, breaker: 'closed' }], undefined).kind, 'ready');
  assert.equal((selectReplica([{ status: a, breaker: 'closed' }, { status: b, breaker: 'closed' }], undefined) as { replica: { name: string } }).replica.name, 'b');
  assert.equal((selectReplica([{ status: a, breaker: 'closed' }, { status: b, breaker: 'closed' }], 80n) as { replica: { name: string } }).replica.name, 'a');
  assert.equal((selectReplica([{ status: a, breaker: 'closed' }, { status: b, breaker: 'open' }], undefined) as { replica: { name: string } }).replica.name, 'a');
  assert.deepEqual(selectReplica([{ status: a, breaker: 'half-open' }], undefined), { kind: 'none' });
  const w = selectReplica([{ status: a, breaker: 'closed' }, { status: b, breaker: 'closed' }], 200n);
  assert.equal(w.kind, 'wait');
  markDown(a, 'x');
  markDown(b, 'x');
  assert.deepEqual(selectReplica([{ status: a, breaker: 'closed' }, { status: b, breaker: 'closed' }], undefined), { kind: 'none' });
});
