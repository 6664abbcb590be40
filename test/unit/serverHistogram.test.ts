// The stress scenario's server-side figures: histogram buckets from a /metrics text, differenced and summarised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketQuantileMs, diffBuckets, parseBuckets } from '../../src/bench/serverHistogram.ts';

const scrape = (fast: number, slow: number): string =>
  [
    '# TYPE pgpress_http_request_duration_seconds histogram',
    `pgpress_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/a",status_class="2xx"} ${fast}`,
    `pgpress_http_request_duration_seconds_bucket{le="1",method="GET",route="/a",status_class="2xx"} ${fast + slow}`,
    `pgpress_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/a",status_class="2xx"} ${fast + slow}`,
    `pgpress_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/a",status_class="5xx"} 50`,
    `pgpress_http_request_duration_seconds_bucket{le="1",method="GET",route="/a",status_class="5xx"} 50`,
    `pgpress_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/a",status_class="5xx"} 50`,
    `pgpress_http_request_duration_seconds_bucket{le="0.1",method="POST",route="/b",status_class="2xx"} 1`,
    `pgpress_http_request_duration_seconds_bucket{le="1",method="POST",route="/b",status_class="2xx"} 1`,
    `pgpress_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/b",status_class="2xx"} 1`,
  ].join('\n');

test('2xx buckets are summed over routes, differenced between scrapes, and the p99 is its bucket bound', () => {
  const m = 'pgpress_http_request_duration_seconds';
  const before = parseBuckets(scrape(10, 0), m, { status_class: '2xx' });
  assert.deepEqual([...before], [[0.1, 11], [1, 11], [Infinity, 11]]);
  // 100 more fast answers and 2 slow ones: the p99 (101st of 102) is in the 1 s bucket, the p50 in 0.1 s.
  const d = diffBuckets(parseBuckets(scrape(110, 2), m, { status_class: '2xx' }), before);
  assert.deepEqual(bucketQuantileMs(d, 0.99), { ms: 1000, count: 102 });
  assert.deepEqual(bucketQuantileMs(d, 0.5), { ms: 100, count: 102 });
  assert.ok(Number.isNaN(bucketQuantileMs(diffBuckets(before, before), 0.99).ms), 'no answers: NaN');
  assert.equal(parseBuckets('', m).size, 0, 'a failed scrape has no buckets');
});
