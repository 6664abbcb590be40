// The alert rules and the Grafana dashboard name only metrics pgpress serves: every pgpress_* name
// in deploy/prometheus/alerts.yml and in deploy/grafana/pgpress.json's expressions is a series of a
// family listed by a live GET /metrics. Grafana's expressions also parse as PromQL (promtool).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheMetrics } from '../../src/cache/metrics.ts';
import { jobMetrics } from '../../src/observability/metrics.ts';
import { promtool } from '../harness/prometheus.ts';
import { testApp } from '../harness/testApp.ts';

const read = (p: string): string => readFileSync(new URL(`../../deploy/${p}`, import.meta.url), 'utf8');

/** Every series name a family of each type yields, from the `# TYPE` lines of an exposition. */
function servedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(`${name}${s}`);
    if (type === 'summary') for (const s of ['_count', '_sum']) names.add(`${name}${s}`);
  }
  return names;
}

/** The PromQL expressions of every panel and variable of a Grafana dashboard. */
function grafanaExprs(dashboard: { panels: { targets?: { expr: string }[] }[] }): string[] {
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

/** The expressions of a rules file (each `expr: |` block). */
function ruleExprs(yaml: string): string[] {
  return [...yaml.matchAll(/expr: \|\n((?:[ ]{10}.*\n)+)/g)].map((m) => m[1]!);
}

const referenced = (text: string): string[] => [...new Set(text.match(/\bpgpress_[a-z0-9_]+/g) ?? [])].sort();

const { app } = await testApp();
// A Store given cache options and a running scheduler register these families; register them as they would.
cacheMetrics();
jobMetrics();
const res = await app.inject({ method: 'GET', url: '/metrics' });
const served = servedNames(res.body);
const dashboard = JSON.parse(read('grafana/pgpress.json')) as { panels: { targets?: { expr: string }[] }[] };

test('GET /metrics lists the families the deploy files are checked against', () => {
  assert.equal(res.statusCode, 200);
  assert.ok(served.has('pgpress_http_request_duration_seconds_bucket') && served.has('pgpress_db_breaker_state'), `served: ${[...served].join(' ')}`);
});

test('every metric the alert rules name is served by GET /metrics', () => {
  const exprs = ruleExprs(read('prometheus/alerts.yml'));
  assert.ok(exprs.length >= 12, `found ${exprs.length} rule expressions`);
  const names = referenced(exprs.join('\n'));
  assert.ok(names.length >= 10);
  assert.deepEqual(names.filter((n) => !served.has(n)), []);
});

test('every metric the Grafana dashboard names is served by GET /metrics', () => {
  const names = referenced(grafanaExprs(dashboard).join('\n'));
  assert.ok(names.length >= 20);
  assert.deepEqual(names.filter((n) => !served.has(n)), []);
});

test("every Grafana expression parses as PromQL (promtool, with Grafana's variables filled in)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpress-grafana-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rules = grafanaExprs(dashboard).map((e, i) => `      - record: grafana:panel_expr_${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*'))}`);
  writeFileSync(join(dir, 'exprs.yml'), `groups:\n  - name: grafana\n    rules:\n${rules.join('\n')}\n`);
  const r = promtool(['check', 'rules', 'exprs.yml'], dir);
  assert.equal(r.status, 0, r.output);
});
