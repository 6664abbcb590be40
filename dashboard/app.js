// The built-in dashboard: polls GET /metrics every few seconds, derives the figures between two
// scrapes (rates, latency percentiles, ratios) and draws them with uPlot (loaded as the global uPlot).
/* global window, document, fetch, uPlot */
import { histogramQuantile, increase, parseMetrics, select, sum } from './promText.js';

const POLL_MS = 2000;
const KEEP_POINTS = 150; // five minutes at one poll per 2 s
// The dashboard's own polling is not traffic: leave its routes out of throughput and latency.
const ownRoute = (l) => l.route === '/metrics' || (l.route ?? '').startsWith('/dashboard');
const traffic = (l) => !ownRoute(l);
const PALETTE = ['#4cc9f0', '#f72585', '#b5e48c', '#ffb703', '#9b5de5', '#00f5d4', '#fb8500', '#e5e5e5'];

const state = { polls: 0, errors: [], charts: {}, prev: undefined, prevAt: 0 };
// For the tests and the curious: what the page has drawn so far.
window.pgpressDashboard = state;

/** One live time-series chart whose series may appear over time (a replica joining, a new lane). */
class LiveChart {
  constructor(id, title, fmt, emptyText = 'waiting for data…') {
    this.id = id;
    this.fmt = fmt;
    this.times = [];
    this.series = new Map(); // name -> values aligned with times
    this.plot = undefined;
    const card = document.createElement('section');
    card.className = 'card chart';
    card.id = id;
    card.innerHTML = `<h2>${title}</h2><div class="plot"></div><p class="empty"></p>`;
    document.getElementById('charts').append(card);
    this.el = card.querySelector('.plot');
    this.empty = card.querySelector('.empty');
    this.empty.textContent = emptyText;
    state.charts[id] = { points: 0, series: [] };
  }

  /** Appends one point per series at time t (seconds); a series missing this time gets a gap. */
  push(t, values) {
    this.times.push(t);
    for (const name of Object.keys(values)) {
      if (!this.series.has(name)) this.series.set(name, new Array(this.times.length - 1).fill(null));
    }
    for (const [name, arr] of this.series) arr.push(values[name] ?? null);
    if (this.times.length > KEEP_POINTS) {
      this.times.shift();
      for (const arr of this.series.values()) arr.shift();
    }
    this.draw();
  }

  draw() {
    const names = [...this.series.keys()];
    const points = names.reduce((n, k) => n + this.series.get(k).filter((v) => v !== null && Number.isFinite(v)).length, 0);
    state.charts[this.id] = { points, series: names };
    this.empty.hidden = points > 0;
    if (points === 0) return;
    const data = [this.times, ...names.map((k) => this.series.get(k))];
    const key = names.join('|');
    if (this.plot && this.key === key) {
      this.plot.setData(data);
      return;
    }
    // A new series appeared: uPlot's series are fixed at creation, so build the chart again.
    this.plot?.destroy();
    this.key = key;
    const fmt = this.fmt;
    this.plot = new uPlot({
      width: this.el.clientWidth || 420,
      height: 190,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.15 : 1] } },
      axes: [
        { stroke: '#9aa4b2', grid: { stroke: '#273043' }, ticks: { stroke: '#273043' } },
        { stroke: '#9aa4b2', grid: { stroke: '#273043' }, ticks: { stroke: '#273043' }, size: 64, values: (_u, ticks) => ticks.map((v) => fmt(v)) },
      ],
      series: [{}, ...names.map((name, i) => ({ label: name, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: false }, value: (_u, v) => (v == null ? '–' : fmt(v)) }))],
    }, data, this.el);
  }
}

const pct = (v) => (v === 0 ? '0 %' : `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`);
const ms = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`);
const num = (v) => (Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : Number.isInteger(v) || v >= 10 ? v.toFixed(0) : v.toFixed(1));
const secs = (v) => (v >= 60 ? `${(v / 60).toFixed(1)} min` : `${v.toFixed(1)} s`);

const charts = {
  throughput: new LiveChart('throughput', 'Throughput (requests/s by status)', num),
  latency: new LiveChart('latency', 'Response time percentiles', ms),
  pool: new LiveChart('pool', 'Connection pool use (in use / max)', pct),
  cache: new LiveChart('cache', 'Cache hit ratio', pct),
  lag: new LiveChart('lag', 'Replica lag', secs, 'no replica lag reported (no replicas configured, or not measured yet)'),
  cpu: new LiveChart('cpu', 'Process CPU (% of a core) and event-loop delay (p99 ms)', num),
};

function tile(id, label, value, level) {
  const el = document.getElementById(id) ?? Object.assign(document.createElement('div'), { id, className: 'tile' });
  if (!el.parentElement) document.getElementById('tiles').append(el);
  el.dataset.level = level ?? 'ok';
  el.innerHTML = `<span class="label">${label}</span><span class="value">${value}</span>`;
}

const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function table(id, head, rows, emptyText = 'no data yet') {
  const el = document.querySelector(`#${id} tbody`);
  document.querySelector(`#${id} thead`).innerHTML = `<tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>`;
  el.innerHTML = rows.length === 0 ? `<tr><td colspan="${head.length}" class="muted">${emptyText}</td></tr>` : rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
}

function update(cur, prev, dt, t) {
  // Throughput by status class.
  const classes = {};
  for (const cls of ['2xx', '3xx', '4xx', '5xx']) {
    const inc = increase(prev, cur, 'pgpress_http_request_duration_seconds_count', (l) => traffic(l) && l.status_class === cls);
    if (inc !== undefined) classes[cls] = inc / dt;
  }
  charts.throughput.push(t, classes);
  const total = Object.values(classes).reduce((a, b) => a + b, 0);
  tile('t-rps', 'Requests/s', num(total));
  const errRate = total > 0 ? (classes['5xx'] ?? 0) / total : 0;
  tile('t-err', '5xx rate', pct(errRate), errRate > 0.01 ? 'bad' : 'ok');

  // Latency percentiles over the last interval.
  const lat = {};
  for (const [label, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]]) {
    const v = histogramQuantile(q, prev, cur, 'pgpress_http_request_duration_seconds', traffic);
    if (v !== undefined) lat[label] = v * 1000;
  }
  charts.latency.push(t, lat);
  tile('t-p95', 'p95 response', lat.p95 === undefined ? '–' : ms(lat.p95), (lat.p95 ?? 0) > 1000 ? 'bad' : 'ok');

  // Pool use per target and lane.
  const pool = {};
  for (const s of select(cur, 'pgpress_db_pool_utilisation_ratio')) pool[`${s.labels.target}/${s.labels.lane}`] = s.value;
  charts.pool.push(t, pool);
  const poolMax = Math.max(0, ...Object.values(pool));
  tile('t-pool', 'Busiest pool', pct(poolMax), poolMax > 0.8 ? 'bad' : 'ok');

  // Shared-buffer hit ratio (database) and the query cache's hit ratio, over the interval.
  const cache = {};
  const hit = increase(prev, cur, 'pgpress_pg_blocks_total', (l) => l.source === 'hit');
  const read = increase(prev, cur, 'pgpress_pg_blocks_total', (l) => l.source === 'read');
  const bufferGauge = sum(cur, 'pgpress_pg_buffer_hit_ratio');
  if (hit !== undefined && read !== undefined && hit + read > 0) cache['shared buffers'] = hit / (hit + read);
  else if (bufferGauge !== undefined) cache['shared buffers'] = bufferGauge;
  const ch = increase(prev, cur, 'pgpress_cache_hits_total');
  const cm = increase(prev, cur, 'pgpress_cache_misses_total');
  if (ch !== undefined && cm !== undefined && ch + cm > 0) cache['query cache'] = ch / (ch + cm);
  charts.cache.push(t, cache);
  const buf = cache['shared buffers'];
  tile('t-hit', 'Buffer hit ratio', buf === undefined ? '–' : pct(buf), buf !== undefined && buf < 0.8 ? 'bad' : 'ok');

  // Replica lag as the client measures it.
  const lag = {};
  for (const s of select(cur, 'pgpress_db_replica_lag_seconds')) lag[s.labels.target] = s.value;
  charts.lag.push(t, lag);

  // CPU (share of one core) and event-loop delay.
  const cpu = increase(prev, cur, 'pgpress_process_cpu_seconds_total');
  const loop = sum(cur, 'pgpress_nodejs_eventloop_lag_p99_seconds');
  const cpuLoop = {};
  if (cpu !== undefined) cpuLoop['CPU % of a core'] = (cpu / dt) * 100;
  if (loop !== undefined) cpuLoop['event-loop p99 ms'] = loop * 1000;
  charts.cpu.push(t, cpuLoop);

  // Breakers.
  const open = select(cur, 'pgpress_db_breaker_state', () => true).filter((s) => s.value === 2).map((s) => s.labels.target);
  tile('t-breaker', 'Circuits', open.length === 0 ? 'all closed' : `open: ${open.join(', ')}`, open.length === 0 ? 'ok' : 'bad');
  const inFlight = sum(cur, 'pgpress_http_requests_in_flight');
  tile('t-inflight', 'In flight', inFlight === undefined ? '–' : num(inFlight));

  // Top statements by total execution time (pg_stat_statements, top K + other).
  const calls = new Map(select(cur, 'pgpress_pg_statement_calls_total').map((s) => [s.labels.queryid, s.value]));
  const stmts = select(cur, 'pgpress_pg_statement_seconds_total').sort((a, b) => b.value - a.value).slice(0, 10);
  table('statements', ['query', 'total time', 'calls', 'mean'], stmts.map((s) => {
    const c = calls.get(s.labels.queryid) ?? 0;
    return [s.labels.query, secs(s.value), num(c), c > 0 ? ms((s.value / c) * 1000) : '–'];
  }), 'no figures: pg_stat_statements is not installed in this database (the embedded server enables it)');

  // Tables by dead tuples (bloat), with the last autovacuum.
  const live = new Map(select(cur, 'pgpress_pg_table_live_tuples').map((s) => [s.labels.table, s.value]));
  const vac = new Map(select(cur, 'pgpress_pg_table_last_maintenance_timestamp_seconds', (l) => l.kind === 'autovacuum').map((s) => [s.labels.table, s.value]));
  const dead = select(cur, 'pgpress_pg_table_dead_tuples').sort((a, b) => b.value - a.value).slice(0, 10);
  table('tables', ['table', 'dead tuples', 'live tuples', 'dead %', 'last autovacuum'], dead.map((s) => {
    const l = live.get(s.labels.table) ?? 0;
    const v = vac.get(s.labels.table);
    return [s.labels.table, num(s.value), num(l), l + s.value > 0 ? pct(s.value / (l + s.value)) : '–', v === undefined ? 'never' : `${secs(Date.now() / 1000 - v)} ago`];
  }));
}

async function poll() {
  const status = document.getElementById('status');
  try {
    const r = await fetch('/metrics', { cache: 'no-store' });
    if (!r.ok) throw new Error(`GET /metrics answered ${r.status}${r.status === 401 ? ' (METRICS_TOKEN is set: the dashboard reads /metrics without a token)' : r.status === 404 ? ' (METRICS_PORT is set: the dashboard reads /metrics on the API port)' : ''}`);
    const cur = parseMetrics(await r.text());
    const now = Date.now();
    if (state.prev) update(cur, state.prev, (now - state.prevAt) / 1000, now / 1000);
    state.prev = cur;
    state.prevAt = now;
    state.polls += 1;
    status.textContent = `updated ${new Date(now).toLocaleTimeString()} · every ${POLL_MS / 1000} s`;
    status.dataset.level = 'ok';
  } catch (e) {
    state.errors.push(String(e.message ?? e));
    status.textContent = String(e.message ?? e);
    status.dataset.level = 'bad';
  }
  setTimeout(poll, POLL_MS);
}

window.addEventListener('resize', () => {
  for (const c of Object.values(charts)) if (c.plot) c.plot.setSize({ width: c.el.clientWidth, height: 190 });
});
poll();
