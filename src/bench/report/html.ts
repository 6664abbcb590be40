// The run's report.html: one section per scenario with its figures and its charts — throughput,
// latency percentiles (p50/p95/p99/max), server CPU and memory, database connections, cache hit
// ratio, replica lag, and the scenario's own charts. Readable offline: uPlot's script and styles
// are inlined, the data is embedded as JSON, nothing is fetched.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ResourceSeries } from '../sampler.ts';
import type { ExtraChart, Figure } from '../scenario.ts';
import type { LoadSeries } from '../timeline.ts';

/** What the report needs of a scenario's result. */
export interface ReportScenario {
  scenario: string;
  description: string;
  figures: Record<string, Figure>;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  series: { load: LoadSeries; resources: ResourceSeries };
  charts: ExtraChart[];
}

/** A chart as the page draws it: x, then one array per series. */
interface PageChart {
  title: string;
  unit: string;
  xLabel?: string;
  names: string[];
  data: number[][];
}

/** The standard charts of a scenario, then its own. */
export function chartsOf(s: ReportScenario): PageChart[] {
  const { load, resources: r } = s.series;
  const std: PageChart[] = [
    { title: 'Throughput', unit: 'operations/s', names: ['completed', 'failed'], data: [load.t, load.ops, load.errors] },
    { title: 'Latency', unit: 'ms', names: ['p50', 'p95', 'p99', 'max'], data: [load.t, load.p50, load.p95, load.p99, load.max] },
    { title: `CPU (${r.cpuOf})`, unit: '% of a core', names: ['cpu'], data: [r.t, r.cpuPercent] },
    { title: `Memory (${r.cpuOf})`, unit: 'MiB resident', names: ['rss'], data: [r.t, r.rssMb] },
    { title: 'Database connections', unit: 'connections', names: ['connections'], data: [r.t, r.connections] },
    { title: 'Buffer cache hit ratio', unit: 'hits ÷ block requests', names: ['hit ratio'], data: [r.t, r.cacheHitRatio] },
    { title: 'Replica lag', unit: 'bytes of WAL; 0 without replicas', names: ['max lag'], data: [r.t, r.replicaLagBytes] },
  ];
  return [...std, ...s.charts.map((c) => ({ title: c.title, unit: c.unit, xLabel: c.xLabel, names: Object.keys(c.series), data: [c.x, ...Object.values(c.series)] }))];
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function figuresTable(f: Record<string, Figure>): string {
  const rows = Object.entries(f).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`);
  return `<table class="figures">${rows.join('')}</table>`;
}

// Draws every chart; records, per chart, how many points each series has (the report test reads
// window.__charts) and sets data-points on its element.
const DRAW = `
const all = JSON.parse(document.getElementById('bench-data').textContent);
const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
window.__charts = [];
all.forEach((s, i) => {
  s.charts.forEach((c, j) => {
    const el = document.getElementById('c' + i + '_' + j);
    const points = c.data.slice(1).map((ys) => ys.filter((y) => y !== null && Number.isFinite(y)).length);
    el.dataset.points = String(points.reduce((a, b) => a + b, 0));
    window.__charts.push({ scenario: s.scenario, title: c.title, points });
    const opts = {
      title: c.title + ' (' + c.unit + ')', width: 600, height: 220,
      scales: { x: { time: !c.xLabel } },
      axes: [{ label: c.xLabel }, { size: 72 }],
      series: [{ label: c.xLabel || 'time' }].concat(c.names.map((n, k) => ({ label: n, stroke: colours[k % colours.length], width: 1.5, spanGaps: false, points: { show: c.data[0].length < 40 } }))),
    };
    new uPlot(opts, c.data, el);
  });
});
document.body.dataset.drawn = 'true';
`;

/** The report page for a run's scenarios. */
export function reportHtml(title: string, scenarios: readonly ReportScenario[]): string {
  const uplot = (f: string): string => readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${f}`), 'utf8');
  const data = scenarios.map((s) => ({ scenario: s.scenario, charts: chartsOf(s) }));
  const sections = scenarios.map((s, i) => {
    const charts = data[i]!.charts.map((_c, j) => `<div class="chart" id="c${i}_${j}"></div>`).join('');
    const load = `load average ${s.loadAverageStart.join(' ')} at the start, ${s.loadAverageEnd.join(' ')} at the end`;
    return `<section><h2>${esc(s.scenario)}</h2><p>${esc(s.description)}</p><p class="muted">${esc(load)}</p>${figuresTable(s.figures)}<div class="charts">${charts}</div></section>`;
  });
  // JSON inside a script element: '<' escaped so no value can close the element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${uplot('uPlot.min.css')}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; background: #fff; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.muted { color: #666; } .charts { display: grid; grid-template-columns: 620px 620px; gap: 8px; }
table.figures { border-collapse: collapse; font-size: 12px; margin: 8px 0; }
table.figures th { text-align: left; font-weight: normal; color: #555; padding: 1px 12px 1px 0; }
table.figures td { font-family: ui-monospace, monospace; padding: 1px 24px 1px 0; }
</style></head>
<body><h1>${esc(title)}</h1>
${sections.join('\n')}
<script>${uplot('uPlot.iife.min.js')}</script>
<script type="application/json" id="bench-data">${json}</script>
<script>${DRAW}</script>
</body></html>
`;
}

/** A page height that shows every section (for the PNG): figures rows plus rows of two charts. */
export function reportHeight(scenarios: readonly ReportScenario[]): number {
  return 100 + scenarios.reduce((h, s) => h + 160 + Object.keys(s.figures).length * 19 + Math.ceil(chartsOf(s).length / 2) * 285, 0);
}
