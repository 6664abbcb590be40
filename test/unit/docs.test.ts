// The reference in docs/ documents every setting, metric family and error code, each in its page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { settingsSchema } from '../../src/config/settings.ts';
import { ERROR_CATALOGUE } from '../../src/errors/index.ts';
import { allCollectors } from '../../src/observability/collectors/registry.ts';
import { dbMetrics, enableProcessMetrics, httpMetrics, jobMetrics, registry } from '../../src/observability/metrics.ts';
import { cacheMetrics } from '../../src/cache/metrics.ts';

const doc = (page: string): string => readFileSync(new URL(`../../docs/${page}.md`, import.meta.url), 'utf8');
const configuration = doc('configuration');
// Metric families are named in the page of what they measure (monitoring, cache, scheduler …).
const reference = readdirSync(new URL('../../docs/', import.meta.url)).filter((f) => f.endsWith('.md')).map((f) => doc(f.slice(0, -3))).join('\n');
const api = doc('api');

test('every setting is documented in docs/configuration.md', () => {
  const missing = Object.keys(settingsSchema.shape).filter((k) => !configuration.includes(`\`${k}\``));
  assert.deepEqual(missing, []);
});

test('every metric family /metrics serves (application, process, database collectors) is named in docs/', () => {
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
  assert.deepEqual(names.filter((n) => !reference.includes(`\`${n}\``) && !reference.includes(`\`${n}{`)), []);
});

test('every error code is documented in docs/api.md with its status', () => {
  const missing = Object.entries(ERROR_CATALOGUE)
    .filter(([code, { status }]) => !new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`).test(api))
    .map(([code]) => code);
  assert.deepEqual(missing, []);
});

test('the README links every page of docs/, and every link it has to docs/ resolves', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const linked = new Set([...readme.matchAll(/\]\((docs\/[\w.-]+\.md)\)/g)].map((m) => m[1]!));
  const pages = readdirSync(new URL('../../docs/', import.meta.url)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  assert.deepEqual(pages.filter((p) => !linked.has(p)), [], 'pages of docs/ the README does not link');
  assert.deepEqual([...linked].filter((p) => !pages.includes(p)), [], 'README links to missing pages');
});
