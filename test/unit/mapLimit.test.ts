// mapLimit (src/backup/copyDataDir.ts), with which a backup copies, restores and hashes its files
// eight at a time: results in the items' order, never more than the limit at once, and after a
// failure nothing new starts and the failure comes once every running call has ended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLimit } from '../../src/backup/copyDataDir.ts';

const tick = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

test('results come in the items\' order, at most `limit` calls at a time, each with its worker slot', async () => {
  let running = 0;
  let most = 0;
  const slots = new Set<number>();
  const out = await mapLimit([5, 1, 3, 2, 4, 0], 2, async (x, worker) => {
    running++;
    most = Math.max(most, running);
    slots.add(worker);
    await tick(x * 3);
    running--;
    return x * 10;
  });
  assert.deepEqual(out, [50, 10, 30, 20, 40, 0]);
  assert.equal(most, 2);
  assert.deepEqual([...slots].sort(), [0, 1]);
  assert.deepEqual(await mapLimit([], 8, async () => 1), []);
});

test('after a failure no call starts, and it is thrown once the running calls have ended', async () => {
  let started = 0;
  let running = 0;
  await assert.rejects(
    mapLimit(Array.from({ length: 20 }, (_, i) => i), 4, async (i) => {
      started++;
      running++;
      await tick(i === 1 ? 1 : 15);
      running--;
      if (i === 1) throw new Error('copy failed');
      return i;
    }),
    /copy failed/,
  );
  assert.equal(running, 0, 'nothing still running when the failure is thrown');
  assert.ok(started <= 5, `${started} calls started (4 at first, at most one more before the failure)`);
});
