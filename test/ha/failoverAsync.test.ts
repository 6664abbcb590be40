// The same failover with asynchronous replication (synchronous_mode off): Patroni promotes the most
// advanced replica within maximum_lag_on_failover, so writes the old leader acknowledged but had
// not sent may be lost; the test reports how many, and checks what must hold regardless: no write
// answered with a definite error committed, none applied twice, every failure a catalogued outage
// answer, writes resumed on the new primary, and a token from beyond the new history answered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CATALOGUE } from '../../src/errors/catalogue.ts';
import { LSN_HEADER } from '../../src/http/app.ts';
import { OUTAGE_CODES, startHaRig, underLoad, type HaRig } from './failoverRig.ts';

let rig: HaRig;
before(async () => {
  rig = await startHaRig({ synchronous: false });
});
after(async () => {
  await rig?.close();
});

test('kill -9 of the leader under HTTP writes (asynchronous replication): writes resume on the new primary; lost acknowledged writes are counted, no failed one committed', async (t) => {
  const r = await underLoad(rig, 'crash');
  const f = r.figures;
  console.log(`failover (asynchronous) ${r.oldLeader.name} → ${r.newLeader.name}: ${JSON.stringify(f)}${r.lost.length ? `; lost ${r.lost.join(', ')}` : ''}`);
  t.diagnostic(JSON.stringify(f));
  assert.deepEqual(r.failedButCommitted, [], 'no write answered with a definite error is on the new primary');
  assert.equal(f.duplicates, 0, 'no write applied twice');
  for (const o of r.outcomes) {
    if (o.status === 'none' || (o.status >= 200 && o.status < 300)) continue;
    assert.ok(OUTAGE_CODES.has(o.code ?? ''), `${o.marker}: answered ${o.status} ${o.code ?? '(no code)'}; errors logged: ${rig.loggedErrors().join(' | ')}`);
    assert.equal(ERROR_CATALOGUE[o.code as keyof typeof ERROR_CATALOGUE]?.status, o.status);
  }
  assert.notEqual(f.write_gap_s, null, 'writes are acknowledged on the new primary');
  assert.ok(f.write_gap_s! < 30, `first acknowledged write ${f.write_gap_s} s after the kill`);

  // A token from beyond the new primary's history (a lost write's, or forged) is not waited on for ever.
  const t0 = Date.now();
  const res = await fetch(`${rig.baseUrl}/v1/articles/${rig.articleId}`, { headers: { [LSN_HEADER]: 'FFFF/0' } });
  assert.equal(res.status, 200, await res.text());
  assert.ok(Date.now() - t0 < 10_000, `answered in ${Date.now() - t0} ms`);
});
