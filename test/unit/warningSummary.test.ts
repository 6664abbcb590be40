import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/observability/logger.ts';
import { WarningSummary } from '../../src/http/warningSummary.ts';
import { captureLogs } from '../harness/captureLogs.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a summarised warning: the first at once, then at most one line per interval with counts by kind', async () => {
  const logs = captureLogs();
  const w = new WarningSummary(createLogger('warn', logs.stream), 'refused', 100);
  w.note('shed');
  assert.equal(logs.lines().length, 1, 'the first occurrence is reported at once');
  for (let i = 0; i < 500; i++) w.note(i % 5 === 0 ? 'rate_limited' : 'shed', { last: i });
  assert.equal(logs.lines().length, 1, 'a burst adds no line within the interval');
  await sleep(200);
  const lines = logs.lines();
  assert.equal(lines.length, 2, 'the burst is reported once the interval is over');
  assert.deepEqual(lines[1]!.counts, { shed: 400, rate_limited: 100 });
  assert.equal(lines[1]!.total, 500);
  assert.equal(lines[1]!.last, 499, 'the latest detail rides along');
  w.flush();
  assert.equal(logs.lines().length, 2, 'nothing pending, nothing logged');
});
