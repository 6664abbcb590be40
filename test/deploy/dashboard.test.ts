// The built-in /dashboard in Debian's headless Chromium: it loads with no console errors, polls
// GET /metrics and draws data points in its charts (pixels on the canvases), with traffic going on.
// Saves a screenshot (to DASHBOARD_SCREENSHOT when set, e.g. docs/dashboard.png, else a temp dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHeadlessPage, type HeadlessPage } from '../harness/chromium.ts';
import { testApp } from '../harness/testApp.ts';

/** Users, articles and feed reads over real HTTP until the returned function is called. */
function startTraffic(base: string, bearer: (userId: number) => string): () => Promise<void> {
  let running = true;
  const json = (body: unknown, auth?: string): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify(body) });
  const loop = (async () => {
    for (let i = 1; running; i++) {
      // The traffic only feeds the charts: a failed request is not the page's failure (and must not
      // reject this loop before the test awaits it).
      try {
        const u = await fetch(`${base}/v1/users`, json({ email: `d${i}@example.com`, username: `dash_${i}`, displayName: `D ${i}` }));
        if (u.status === 201) {
          const { id } = (await u.json()) as { id: number };
          await fetch(`${base}/v1/articles`, json({ title: `Dashboard article ${i}`, body: 'Text for the dashboard test.', tags: ['dash'], status: 'published' }, bearer(id)));
        }
        await Promise.all([fetch(`${base}/v1/feed?limit=20`), fetch(`${base}/v1/feed?limit=5`), fetch(`${base}/v1/nope`)]);
      } catch (e) {
        process.stderr.write(`dashboard test traffic: ${(e as Error).message}\n`);
      }
      await new Promise((ok) => setTimeout(ok, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

interface DashboardState {
  polls: number;
  errors: string[];
  charts: Record<string, { points: number; series: string[] }>;
}

test('/dashboard loads in headless Chromium without errors and its charts draw live data', { timeout: 90_000 }, async () => {
  const { app, bearer } = await testApp();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;

  const stopTraffic = startTraffic(base, bearer);
  const page = await openHeadlessPage(1440, 1000);
  try {
    await checkDashboard(page, base);
  } finally {
    await stopTraffic();
    await page.close();
  }
});

async function checkDashboard(page: HeadlessPage, base: string): Promise<void> {
  await page.goto(`${base}/dashboard`);
  // For the screenshot in docs/monitoring.md (DASHBOARD_SCREENSHOT set), a longer history of points.
  const minPolls = process.env.DASHBOARD_SCREENSHOT ? 20 : 5;
  const deadline = Date.now() + (process.env.DASHBOARD_SCREENSHOT ? 70_000 : 60_000);
  let s: DashboardState;
  for (;;) {
    s = await page.evaluate<DashboardState>('window.pgpressDashboard');
    const drawn = ['throughput', 'latency', 'pool', 'cpu'].every((c) => (s.charts[c]?.points ?? 0) >= 3);
    if (s.polls >= minPolls && drawn) break;
    if (Date.now() > deadline) assert.fail(`charts did not draw in time: ${JSON.stringify(s)}; page problems: ${JSON.stringify(page.problems)}`);
    await new Promise((ok) => setTimeout(ok, 500));
  }
  assert.deepEqual(s.errors, [], 'every poll of /metrics succeeded');
  assert.deepEqual(page.problems, [], 'no console errors, exceptions or failed loads');
  assert.ok(s.charts.throughput!.series.includes('2xx'), `throughput has a 2xx series: ${JSON.stringify(s.charts.throughput)}`);
  assert.ok(s.charts.latency!.series.includes('p95'), 'latency has p95');
  assert.ok(s.charts.pool!.series.includes('primary/default'), `pool has primary/default: ${JSON.stringify(s.charts.pool)}`);

  // The canvases carry drawn lines: coloured pixels in each chart's plot area.
  const painted = await page.evaluate<Record<string, number>>(`(() => {
    const out = {};
    for (const id of ['throughput', 'latency', 'pool', 'cpu']) {
      const c = document.querySelector('#' + id + ' canvas');
      if (!c) { out[id] = 0; continue; }
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] > 120 || d[i + 1] > 120 || d[i + 2] > 160)) n++;
      out[id] = n;
    }
    return out;
  })()`);
  for (const [id, n] of Object.entries(painted)) assert.ok(n > 50, `chart ${id} has drawn pixels (${n})`);
  const tiles = await page.evaluate<number>(`document.querySelectorAll('#tiles .tile').length`);
  assert.ok(tiles >= 6, `stat tiles shown (${tiles})`);

  const png = await page.screenshot();
  const target = process.env.DASHBOARD_SCREENSHOT ?? join(mkdtempSync(join(tmpdir(), 'pgpress-dashboard-')), 'dashboard.png');
  writeFileSync(target, png);
  process.stderr.write(`dashboard screenshot: ${target}\n`);
  assert.ok(png.length > 10_000, 'the screenshot is a real image');
}
