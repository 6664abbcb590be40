// Unit test of the dashboard's exposition parser and derived figures (dashboard/promText.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
// @ts-expect-error: a plain browser ES module without type declarations
import { histogramQuantile, increase, parseMetrics, sum } from '../../dashboard/promText.js';

interface Sample { name: string; labels: Record<string, string>; value: number }
const parse = parseMetrics as (t: string) => Sample[];

const before = parse(`# HELP h Request durations.
# TYPE h histogram
h_bucket{le="1",route="/a"} 0
h_bucket{le="2.5",route="/a"} 10
h_bucket{le="+Inf",route="/a"} 10
c_total{kind="x"} 5
`);
const after = parse(`h_bucket{le="1",route="/a"} 0
h_bucket{le="2.5",route="/a"} 70
h_bucket{le="+Inf",route="/a"} 70
c_total{kind="x"} 3
g{q="say \\"hi\\"\\n"} 1.5e3
`);

test('parses names, escaped label values, +Inf and exponents; skips comments', () => {
  assert.equal(before.length, 4);
  assert.deepEqual(after[4], { name: 'g', labels: { q: 'say "hi"\n' }, value: 1500 });
  assert.equal(before[2]!.labels.le, '+Inf');
});

test("histogramQuantile interpolates inside the bucket as Prometheus's histogram_quantile does", () => {
  // 60 new observations, all in (1, 2.5]: p95 = 1 + 1.5 × 0.95 (promtool computes 2.425 for the same buckets).
  assert.ok(Math.abs((histogramQuantile(0.95, before, after, 'h') as number) - 2.425) < 1e-9);
  assert.equal(histogramQuantile(0.95, after, after, 'h'), undefined, 'no observations between the scrapes: no figure');
});

test('increase treats a counter that went down as a restart (counts from zero)', () => {
  assert.equal(increase(before, after, 'c_total'), 3);
  assert.equal(sum(after, 'missing'), undefined);
});
