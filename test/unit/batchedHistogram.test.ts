// BatchedHistogram: what a scrape serves is what a plain prom-client Histogram fed the same
// observations serves, whether the last batch was full or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { BatchedHistogram, NO_LABELS } from '../../src/observability/batchedHistogram.ts';

const buckets = [0.01, 0.1, 1];

test('a scrape serves every observation, the ones still buffered included, as a plain Histogram would', async () => {
  const batchedReg = new Registry();
  const plainReg = new Registry();
  const batched = new BatchedHistogram({ name: 'd_seconds', help: 'h', labelNames: ['route'], buckets, registers: [batchedReg] });
  const plain = new Histogram({ name: 'd_seconds', help: 'h', labelNames: ['route'], buckets, registers: [plainReg] });
  const a = { route: '/a' };
  const b = { route: '/b' };
  // 300 observations: two full batches and part of a third still buffered at the first scrape.
  for (let i = 0; i < 300; i++) {
    const labels = i % 3 === 0 ? b : a;
    const v = (i % 7) / 10;
    batched.observe(labels, v);
    plain.observe(labels, v);
  }
  assert.equal(await batchedReg.metrics(), await plainReg.metrics());
  batched.observe(a, 5);
  plain.observe(a, 5);
  assert.equal(await batchedReg.metrics(), await plainReg.metrics(), 'an observation after a scrape is served by the next');
  assert.deepEqual((await batched.histogram.get()).values, (await plain.get()).values, 'get() sees the buffer too');
});

test('a histogram without labels takes NO_LABELS', async () => {
  const reg = new Registry();
  const h = new BatchedHistogram({ name: 'w_seconds', help: 'h', buckets, registers: [reg] });
  h.observe(NO_LABELS, 0);
  h.observe(NO_LABELS, 0.5);
  assert.match(await reg.metrics(), /^w_seconds_count 2$/m);
  assert.match(await reg.metrics(), /^w_seconds_bucket\{le="0.01"\} 1$/m);
});
