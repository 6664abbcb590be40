// `pgpress bench` writes a run folder — one JSON per scenario (figures, machine, versions,
// settings, commit), report.html and report.png — and every chart of the report, opened offline
// in headless Chromium, has data in each of its series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureChromium, openHeadlessPage } from '../harness/chromium.ts';
import { ADMIN_URL } from '../harness/services.ts';
import { startBench } from './benchProcess.ts';
import { checkFigures } from './smokeCases.ts';

test('pgpress bench soak writes its JSON, report.html and report.png, and every chart of the report has data', async (t) => {
  const chromium = ensureChromium(); // the report's PNG is rendered by the same Debian chromium
  const out = mkdtempSync(join(tmpdir(), 'pgpress-bench-report-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const run = startBench(['soak', '--out', out], { BENCH_DATABASE_URL: ADMIN_URL, BENCH_SOAK_SECONDS: '3', BENCH_HTTP_SCALE: '1', BENCH_CHROMIUM: chromium }, { cli: true });
  const timeout = setTimeout(() => run.kill(), 110_000);
  const { code, signal, stdout, stderr } = await run.done.finally(() => clearTimeout(timeout));
  assert.equal(code, 0, `pgpress bench exited with ${code ?? signal}\n${stdout}\n${stderr}`);
  // The scenario's last line is its figures as one JSON object.
  const last = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(last.scenario, 'soak');
  // The smoke runs' check of soak is this one (smokeShippedRest.test.ts leaves soak to this file).
  checkFigures('soak', last, stdout);
  const dir = /results in (\S+) /.exec(stderr)?.[1];
  assert.ok(dir && dir.startsWith(out), `the run names its folder under --out:\n${stderr}`);
  assert.match(dir, /\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/, 'the folder is named for the start time');

  const record = JSON.parse(readFileSync(join(dir, 'soak.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(record.figures!).slice(0, 2), ['rps_ratio', 'rss_ratio']);
  assert.ok(Number(record.machine!.cpus) >= 1 && Number(record.machine!.memoryBytes) > 0 && Array.isArray(record.machine!.loadAverageStart), JSON.stringify(record.machine));
  assert.match(String(record.versions!.node), /^v\d+/);
  assert.match(String(record.versions!.postgres), /^\d+/);
  assert.equal(record.settings!.BENCH_SOAK_SECONDS, '3');
  assert.match(String(record.commit), /^[0-9a-f]{40}(-dirty)?$/, 'run from a checkout: the commit is recorded');

  const png = readFileSync(join(dir, 'report.png'));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 20_000, `report.png has charts in it (${png.length} bytes)`);

  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  // Offline: uPlot and the data are inline (uPlot's own licence comment names its home page).
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|url\(/, 'report.html loads nothing from anywhere');
  assert.match(html, /var uPlot=/, 'uPlot is inlined');

  const page = await openHeadlessPage(1300, 900);
  try {
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
    const charts = await page.evaluate<{ scenario: string; title: string; points: number[] }[]>('window.__charts');
    const titles = charts.map((c) => c.title);
    for (const want of ['Throughput', 'Latency', 'CPU', 'Memory', 'Database connections', 'Buffer cache hit ratio', 'Replica lag', 'Soak: WAL rate']) {
      assert.ok(titles.some((x) => x.startsWith(want)), `a chart "${want}" in ${titles.join(', ')}`);
    }
    const empty = charts.filter((c) => c.points.length === 0 || c.points.some((n) => n === 0)).map((c) => `${c.title}: ${c.points.join('/')}`);
    assert.deepEqual(empty, [], 'every series of every chart has points');
    const drawn = await page.evaluate<number>('document.querySelectorAll(".chart canvas").length');
    assert.equal(drawn, charts.length, 'uPlot drew a canvas for each chart');
    assert.deepEqual(page.problems, [], 'the page logged no error');
  } finally {
    await page.close();
  }
});
