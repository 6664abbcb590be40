// The README documents every setting and every error code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { settingsSchema } from '../../src/config/settings.ts';
import { ERROR_CATALOGUE } from '../../src/errors/index.ts';
import { allCollectors } from '../../src/observability/collectors/registry.ts';
import { dbMetrics, enableProcessMetrics, httpMetrics, jobMetrics, registry } from '../../src/observability/metrics.ts';
import { cacheMetrics } from '../../src/cache/metrics.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('every setting is documented in the README', () => {
  const missing = Object.keys(settingsSchema.shape).filter((k) => !readme.includes(`\`${k}\``));
  assert.deepEqual(missing, []);
});

test('every metric family /metrics serves (application, process, database collectors) is named in the README', () => {
  dbMetrics();
  httpMetrics();
  enableProcessMetrics();
  cacheMetrics();
  jobMetrics();
  const names = [
    ...registry.getMetricsAsArray().map((m) => m.name),
    ...allCollectors({ statementsTopK: 20, warn: () => undefined }).flatMap((c) => c.families.map((f) => f.name)),
    'pgpress_collector_up',
    'pgpress_collector_duration_seconds',
  ];
  assert.ok(names.length > 60, `${names.length} families`);
  // Named in backticks, alone or with its labels (`name{label,…}`).
  assert.deepEqual(names.filter((n) => !readme.includes(`\`${n}\``) && !readme.includes(`\`${n}{`)), []);
});

test('every error code is documented in the README with its status', () => {
  const missing = Object.entries(ERROR_CATALOGUE)
    .filter(([code, { status }]) => !new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`).test(readme))
    .map(([code]) => code);
  assert.deepEqual(missing, []);
});
