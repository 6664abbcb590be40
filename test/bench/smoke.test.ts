// The benchmark scenarios still run end to end, at a tiny scale and with short rounds: a scenario
// that rots (a query gains a parameter, a route changes) fails here rather than on the next
// `npm run bench`. Nothing here is timed; the figures belong to `npm run bench`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('`npm run bench -- schema api soak` runs at a tiny scale and ends each scenario with its JSON line', async () => {
  const env = { ...process.env, BENCH_SCHEMA_SCALE: '1', BENCH_SECONDS: '0.25', BENCH_SOAK_SECONDS: '2' };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'schema', 'api', 'soak'], { env, timeout: 180_000, maxBuffer: 16 << 20 });
  const results = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(results.map((r) => r.scenario), ['schema', 'api', 'soak'], stdout);
  const [schema, api, soak] = results as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
  for (const key of ['analytics_ratio', 'search_ratio', 'retention_ratio', 'feed_ratio']) {
    assert.ok(Number.isFinite(schema[key]) && (schema[key] as number) > 0, `schema ${key}: ${String(schema[key])}`);
  }
  assert.equal(schema.articles, 1000);
  for (const key of ['ratio', 'cpu_ratio', 'rps', 'bare_rps', 'feed_p99_ms', 'search_p99_ms']) {
    assert.ok(Number.isFinite(api[key]) && (api[key] as number) > 0, `api ${key}: ${String(api[key])}`);
  }
  assert.equal(api.errors, 0, 'every request of every run answered 2xx');
  for (const key of ['rps_ratio', 'rss_ratio', 'rps', 'rss_max_mb', 'requests']) {
    assert.ok(Number.isFinite(soak[key]) && (soak[key] as number) > 0, `soak ${key}: ${String(soak[key])}`);
  }
  assert.equal(soak.errors, 0, 'reads, events and comment writes all answered 2xx');
});
