// deploy/prometheus/alerts.yml is valid Prometheus rules and its unit tests (alerts.test.yml) pass,
// both checked by Debian's promtool (installed by the harness when missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promtool } from '../harness/prometheus.ts';

const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

test('promtool check rules accepts deploy/prometheus/alerts.yml', () => {
  const r = promtool(['check', 'rules', 'alerts.yml'], dir);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SUCCESS: \d+ rules found/);
});

test('promtool test rules: every alert fires past its threshold and not inside it', () => {
  const r = promtool(['test', 'rules', 'alerts.test.yml'], dir);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SUCCESS/);
});

test('docs/monitoring.md lists every alert of alerts.yml in its alerts table, and no other', () => {
  const rules = [...readFileSync(`${dir}alerts.yml`, 'utf8').matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!).sort();
  const monitoring = readFileSync(new URL('../../docs/monitoring.md', import.meta.url), 'utf8');
  const listed = [...monitoring.matchAll(/^\| `(Pgpress\w+)` \|/gm)].map((m) => m[1]!).sort();
  assert.ok(rules.length >= 12, `alerts.yml has ${rules.length} alerts`);
  assert.deepEqual(listed, rules);
});
