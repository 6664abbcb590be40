// The benchmarks' shared measuring rules: a true median, one definition of it, interleaved rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { interleaved, median, medianRatio, roundOrder } from '../../src/bench/measure.ts';

test('median is the middle value for odd n and the mean of the two middle values for even n', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([10, 0]), 5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]));
  assert.equal(medianRatio([2, 6, 3, 8], [1, 2, 3, 4]), 2);
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : n.endsWith('.ts') ? [p] : [];
  });
}

test('src/bench/measure.ts holds the only median in bench/, src/ and test/', () => {
  const definitions = ['bench', 'src', 'test']
    .flatMap(tsFiles)
    .filter((f) => f !== join('src', 'bench', 'measure.ts'))
    .filter((f) => /(const|function|let)\s+median\b/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(definitions, [], 'import median from src/bench/measure.ts instead');
});

test('rounds are interleaved, each round reversing the last one, after one warm-up run of each variant', async () => {
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 1), ['c', 'b', 'a']);
  const calls: string[] = [];
  let n = 0;
  const out = await interleaved(['a', 'b'], 3, async (v) => {
    calls.push(v);
    return n++;
  });
  assert.deepEqual(calls, ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b']);
  assert.deepEqual(out, { a: [2, 5, 6], b: [3, 4, 7] });
});
