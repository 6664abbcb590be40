// The restore drill (issue 16, item 4): writes through the HTTP API, a base backup taken while they
// run, a moment T, more writes, a table dropped by mistake; the restore to T has exactly the rows
// committed at or before T (row-level diff 0), the restore to the last archived WAL loses no
// acknowledged write, and the time from the restore call to a ready API is reported (RTO).
// The drill itself and its rule at T: test/harness/restoreDrill.ts. Figures at seed scale:
// `npm run bench -- recovery`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRestoreDrill } from '../harness/restoreDrill.ts';

test('restore drill: the restore to T has every row committed by T and none after (diff 0), the dropped table is back; latest loses no acknowledged write', async () => {
  const t0 = Date.now();
  const r = await runRestoreDrill({ log: (l) => console.log(`restore drill ${((Date.now() - t0) / 1000).toFixed(1)} s: ${l}`) });
  const { missing, extra, changed, rpo_lost, acked_before_t_missing, sent_after_t_present, tables_differing, ...figures } = r;
  console.log(`restore drill: ${JSON.stringify(figures)}`);

  // The premise: writes were acknowledged on both sides of T.
  assert.ok(r.rows_before_t > 0 && r.rows_after_t > 0, `writer rows on both sides of T: ${r.rows_before_t} before, ${r.rows_after_t} after`);
  assert.ok(r.dropped_table_restored, 'the dropped table is back in the restore to T');
  assert.deepEqual({ missing, extra, changed }, { missing: [], extra: [], changed: [] }, 'row-level diff at T');
  assert.equal(r.row_diff, 0);
  assert.deepEqual(acked_before_t_missing, [], 'every write answered before T is restored');
  assert.deepEqual(sent_after_t_present, [], 'no write sent after T is restored');
  assert.deepEqual(tables_differing, [], 'the tables nobody wrote to after the backup came back as they were');
  assert.deepEqual(rpo_lost, [], 'the restore to the last archived WAL has every acknowledged write');
  assert.ok(r.rto_s > 0 && r.rto_s < 120, `RTO ${r.rto_s} s`);
});
