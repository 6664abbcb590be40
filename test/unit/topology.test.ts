// Topology discovery, the pure parts: multi-host URLs, PATRONI_URLS, choosing the primary from a
// round of probes, the resolution state machine, and 25006 as a definite, retryable refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayRetry, outcomeUnknown, retryRule } from '../../src/db/retryPolicy.ts';
import { mustDiscard } from '../../src/db/connectionRule.ts';
import { choosePrimary, initialTopology, nextTopology } from '../../src/db/topologyState.ts';
import { isMultiHost, parseHostList, parsePatroniUrls } from '../../src/db/topologyUrl.ts';
import { fromPgError } from '../../src/errors/index.ts';

const a = { host: '10.0.0.1', port: 5432 };
const b = { host: '10.0.0.2', port: 5433 };
const c = { host: 'db3', port: 5432 };

test('a multi-host URL names each node, and each node gets a single-host URL with the same user, database and options', () => {
  const h = parseHostList('postgres://app:s%40cret@10.0.0.1,10.0.0.2:5433,db3/content?sslmode=disable&target_session_attrs=read-write');
  assert.deepEqual(h.endpoints, [a, b, c]);
  assert.equal(h.urlFor(b), 'postgres://app:s%40cret@10.0.0.2:5433/content?sslmode=disable');
  assert.deepEqual(parseHostList('postgresql://[::1]:6000,[fe80::2]/db').endpoints, [{ host: '::1', port: 6000 }, { host: 'fe80::2', port: 5432 }]);
  assert.equal(parseHostList('postgres://u@[::1]:6000/db').urlFor({ host: '::1', port: 6000 }), 'postgres://u@[::1]:6000/db');
  assert.deepEqual(parseHostList('postgres://u@h1,h2/db?port=6432').endpoints, [{ host: 'h1', port: 6432 }, { host: 'h2', port: 6432 }]);
  assert.equal(isMultiHost('postgres://u@h1:5432,h2:5432/db'), true);
  assert.equal(isMultiHost('postgres://u@h1:5432/db'), false);
  assert.throws(() => parseHostList('postgres://u@h1:99999/db'), /bad port/);
  assert.throws(() => parseHostList('postgres://u@h1,,h2/db'), /bad host/);
  assert.throws(() => parseHostList('mysql://h1/db'), /postgres:\/\//);
});

test('PATRONI_URLS is a comma-separated list of http(s) endpoints', () => {
  assert.deepEqual(parsePatroniUrls(' http://p1:8008/ , https://p2:8008 ,'), ['http://p1:8008', 'https://p2:8008']);
  assert.throws(() => parsePatroniUrls('p1:8008'), /bad Patroni REST URL/);
});

test('the primary is the one writable node; none or two writable name none, with the reason', () => {
  assert.deepEqual(choosePrimary([{ endpoint: a, writable: false }, { endpoint: b, writable: true }, { endpoint: c, error: 'ECONNREFUSED' }]), { kind: 'primary', primary: b });
  const none = choosePrimary([{ endpoint: a, writable: false }, { endpoint: c, error: 'ECONNREFUSED' }]);
  assert.equal(none.kind, 'none');
  assert.match((none as { reason: string }).reason, /no node accepts writes \(db3:5432: ECONNREFUSED\)/);
  const split = choosePrimary([{ endpoint: a, writable: true }, { endpoint: b, writable: true }]);
  assert.match((split as { reason: string }).reason, /2 nodes accept writes .*refusing to pick one/);
});

test('with Patroni only its leader can be the primary, and only once it accepts writes', () => {
  assert.deepEqual(choosePrimary([{ endpoint: b, writable: true }], { leader: b }), { kind: 'primary', primary: b });
  assert.match((choosePrimary([{ endpoint: b, writable: false }], { leader: b }) as { reason: string }).reason, /does not accept writes yet/);
  assert.match((choosePrimary([], { leader: undefined }) as { reason: string }).reason, /no running leader/);
  // A writable node Patroni does not name (a deposed leader not yet demoted) is not the primary.
  assert.equal(choosePrimary([{ endpoint: a, writable: true }, { endpoint: b, writable: false }], { leader: b }).kind, 'none');
});

test('resolution: suspect → resolving (no primary handed out) → resolved; a new node counts as a change', () => {
  let s = initialTopology();
  assert.equal(s.resolving, true);
  let r = nextTopology(s, { kind: 'resolved', resolution: { kind: 'primary', primary: a } });
  assert.deepEqual([r.changed, r.state.resolving, r.state.generation], [true, false, 1]);
  s = nextTopology(r.state, { kind: 'suspect', reason: 'a write met 25006' }).state;
  assert.deepEqual([s.resolving, s.primary, s.lastReason], [true, a, 'a write met 25006']);
  r = nextTopology(s, { kind: 'resolved', resolution: { kind: 'none', reason: 'no running leader' } });
  assert.deepEqual([r.changed, r.state.resolving, r.state.lastReason], [false, true, 'no running leader']);
  r = nextTopology(r.state, { kind: 'resolved', resolution: { kind: 'primary', primary: a } });
  assert.deepEqual([r.changed, r.state.generation], [false, 1], 'a false alarm: same primary, no change');
  r = nextTopology(nextTopology(r.state, { kind: 'suspect', reason: 'x' }).state, { kind: 'resolved', resolution: { kind: 'primary', primary: b } });
  assert.deepEqual([r.changed, r.state.primary, r.state.generation], [true, b, 2]);
});

test('25006 from a standby is a definite refusal: retried at any stage, never "outcome unknown", answered 503, connection dropped', () => {
  const e = Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006', severity: 'ERROR' });
  const rule = retryRule(e)!;
  assert.equal(rule.kind, 'notPrimary');
  for (const kind of ['read', 'write', 'tx'] as const) {
    assert.equal(mayRetry(kind, 'during', rule), true, kind);
    assert.equal(outcomeUnknown(kind, 'during', e), false, kind);
  }
  assert.equal(outcomeUnknown('tx', 'commit', e), false);
  assert.equal(fromPgError(e).code, 'PGP_DB_UNAVAILABLE');
  assert.equal(mustDiscard(false, e), true);
});
